// Package signing implements the signed wire formats that cloakroom shares
// with Python web frameworks, so that sessions written by one side can be
// read by the other:
//
//   - [Signer]: itsdangerous' Signer, "value.signature", as Quart-Session
//     uses to sign the session id it puts in a cookie.
//   - [TimedSerializer]: itsdangerous' URLSafeTimedSerializer,
//     "payload.timestamp.signature", as Flask's and Quart's
//     SecureCookieSessionInterface write client-side session cookies.
//   - [DjangoSigner]: django.core.signing.dumps and loads with compress=True,
//     "payload:timestamp:signature", as Django stores session_data.
//
// Every type takes a list of secrets to support rotation: the first secret
// signs and every secret verifies, so a new secret can be put first while the
// old one keeps existing values valid until they expire. (itsdangerous lists
// secret_keys oldest first; here the newest comes first.)
//
// Payloads are opaque bytes: the serializers sign, compress and encode them
// but do not interpret them. Callers encode and decode the JSON themselves,
// for Flask and Quart with the tagged-JSON codec.
//
// Verification failures are reported with errors that wrap one of
// [ErrBadSignature], [ErrExpired] or [ErrMalformed]; test them with
// errors.Is. Callers that only need a yes or no can treat any non-nil error
// as "reject". Signatures are compared in constant time, derived keys are
// computed once per secret at construction, and all types are safe for
// concurrent use. No function panics on any input.
package signing
