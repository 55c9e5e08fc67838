package fibersession

import (
	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"

	"github.com/cloakroom/cloakroom/core"
)

// failedSave is the body of the response that replaces a handler's when
// its session could not be saved.
const failedSave = "session could not be saved"

// bodyHeaders are the response headers that describe the handler's body
// (or how long it may be cached); they would lie about the error's.
var bodyHeaders = [...]string{
	fiber.HeaderContentType,
	fiber.HeaderContentLength,
	fiber.HeaderContentEncoding,
	fiber.HeaderContentLanguage,
	fiber.HeaderContentLocation,
	fiber.HeaderContentRange,
	fiber.HeaderContentDisposition,
	fiber.HeaderETag,
	fiber.HeaderLastModified,
	fiber.HeaderAcceptRanges,
	fiber.HeaderLocation,
	fiber.HeaderCacheControl,
	fiber.HeaderExpires,
}

// replace turns res into the error for a failed save: core.HTTPStatus(err)
// (503 when the backend failed) with a short plain-text body. Answering
// the handler's success for a change that was lost would mislead the
// client. The handler's status, body, body stream and the headers that
// describe them go; other headers (its cookies, CORS, security headers)
// stay. The failure itself went to the Manager's ErrorHandler.
func replace(res *fasthttp.Response, err error) {
	res.ResetBody() // closes a body stream (SendStream, SendFile, SendStreamWriter)
	for _, name := range bodyHeaders {
		res.Header.Del(name)
	}
	res.SetStatusCode(core.HTTPStatus(err))
	res.Header.SetContentType(fiber.MIMETextPlainCharsetUTF8)
	res.Header.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	res.SetBodyString(failedSave)
}
