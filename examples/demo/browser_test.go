package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/internal/demo"
)

const (
	// chromiumEnv names the Chromium to drive; defaultChromium is where
	// scripts/chromium.sh installs Debian's.
	chromiumEnv     = "CLOAKROOM_CHROMIUM"
	defaultChromium = "/usr/bin/chromium"
	// screenshotsEnv names a folder to keep TestBrowser's screenshots in.
	screenshotsEnv = "CLOAKROOM_SCREENSHOTS"

	// browserTimeout bounds the whole browser session, Chromium's start
	// included, so that a browser that hangs fails the test well before go
	// test's own timeout; actionTimeout bounds each step within it.
	browserTimeout = 45 * time.Second
	actionTimeout  = 10 * time.Second
)

// TestBrowser drives the demo page in a real, headless Chromium, as a user
// would: the page's forms go through static/app.js to the JSON API and
// reload the page, which no HTTP-level test exercises. Two browser contexts
// with their own cookies stand for two devices of one user.
func TestBrowser(t *testing.T) {
	chromium := findChromium(t)
	shots := newScreenshots(t)
	store := memory.New(memory.Options{})
	t.Cleanup(func() { store.Close() })
	base := startDemo(t, "nethttp", store)
	browser := startBrowser(t, chromium)

	first := openTab(t, browser, "", base, shots)

	// a. A key set through the form is in the session after the reload.
	first.open()
	first.setKey("greeting", `"hello"`)
	first.screenshot("set-key")
	first.wantEntry("greeting", `"hello"`)
	visits := first.visits()

	// b. A reload is one more visit of the same session.
	first.reload()
	first.screenshot("reload")
	if got := first.visits(); got != visits+1 {
		t.Errorf("visits after a reload = %d, want %d", got, visits+1)
	}
	first.wantEntry("greeting", `"hello"`)

	// b2. Two tabs of one browser share its session: clicks from both all
	// count, and each tab catches up with the other's (app.js polls).
	twin := openTab(t, browser, "twin", base, shots)
	twin.open()
	for n := 1; n <= 6; n += 2 {
		first.clickPlusOne(n)
		twin.clickPlusOne(n + 1)
	}
	first.waitClicks(6)
	first.screenshot("two-tabs")

	// c. Logging in gives a new session id and a flash message, shown once.
	before := first.sessionID()
	first.logIn("ada")
	first.screenshot("log-in")
	if after := first.sessionID(); after == before {
		t.Errorf("#session-id is %q both before and after login; login must change the id", after)
	}
	if flashes := first.flashes(); len(flashes) != 1 || flashes[0] != demo.LoginFlash("ada") {
		t.Errorf("flashes after login = %q, want one saying %q", flashes, demo.LoginFlash("ada"))
	}
	first.reload()
	first.screenshot("flash-gone")
	if flashes := first.flashes(); len(flashes) != 0 {
		t.Errorf("flashes on the reload after login = %q, want none: a flash is shown once", flashes)
	}

	// d. A second device of ada's, logged out from the first.
	second := openTab(t, browser, "second", base, shots, chromedp.WithNewBrowserContext())
	second.open()
	second.logIn("ada")
	second.screenshot("log-in")
	if !second.has("#logout") {
		t.Fatal("the second browser context is not logged in after logging in")
	}
	first.reload()
	first.screenshot("two-devices")
	if n := first.count("#devices tbody tr"); n != 2 {
		t.Fatalf("#devices lists %d sessions, want 2 (two browser contexts logged in as ada)", n)
	}
	first.logOutOtherDevices()
	first.screenshot("logged-out-others")
	if n := first.count("#devices tbody tr"); n != 1 {
		t.Errorf("#devices lists %d sessions after logging out the others, want 1", n)
	}
	if first.has("#logout-others") {
		t.Error("#logout-others is still offered with one session left")
	}
	second.reload()
	second.screenshot("logged-out")
	if !second.has("#login") {
		t.Error("the second browser context is still logged in after the first logged out the other devices")
	}
	if notice := second.textOf("#notice"); !strings.Contains(notice, "logged out from another device") {
		t.Errorf("#notice = %q, want it to say %q", notice, "You were logged out from another device.")
	}

	// e. Logging out ends the login.
	first.logOut()
	first.screenshot("log-out")
	if !first.has("#login") {
		t.Error("#login is missing after logging out")
	}
	if first.has("#logout") || first.has("#devices") {
		t.Error("the page still shows a logged-in user (#logout or #devices) after logging out")
	}
}

// findChromium returns the Chromium to drive, skipping the test (failing it
// under CLOAKROOM_REQUIRE_SERVICES=1, as in CI) when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	path := defaultChromium
	if p := os.Getenv(chromiumEnv); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(backendtest.RequireServicesEnv) != "" {
			t.Fatalf("Chromium is required (%s=1) but missing: %v; run scripts/chromium.sh", backendtest.RequireServicesEnv, err)
		}
		t.Skipf("no Chromium (%v): run scripts/chromium.sh, or set %s to a Chromium", err, chromiumEnv)
	}
	return path
}

// startBrowser starts Chromium at path, headless, and returns a context to
// open tabs from: chromedp opens a new browser context only in a browser
// that runs. Chromium ends with the test.
func startBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1000, 800),
		// The flags scripts/chromium.sh documents, stated here although
		// most are among chromedp's defaults: this machine's closed network
		// refuses Chromium's background connections, which they turn off.
		// The fresh --user-data-dir they need comes from chromedp, which
		// makes one in the temporary folder and removes it.
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // we run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // kills Chromium if need be, and waits for it
		cancel()
	})
	// The first action starts Chromium and binds it to browser, which has
	// browserTimeout. When Chromium fails to start, the error has its
	// output.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return browser
}

// screenshots keeps a PNG of the page after each step, numbered in step
// order across tabs, in a folder a person can open after the test.
type screenshots struct {
	dir string
	n   int
}

// newScreenshots saves into $CLOAKROOM_SCREENSHOTS, always named in the
// log, or else into a new folder under the system's temporary folder,
// named in the log and kept only when the test fails: nobody looks at the
// pictures of a test that passed.
func newScreenshots(t *testing.T) *screenshots {
	t.Helper()
	if dir := os.Getenv(screenshotsEnv); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshots in %s", dir)
		return &screenshots{dir: dir}
	}
	// Not t.TempDir(), which the test removes even when it fails.
	dir, err := os.MkdirTemp("", "cloakroom-browser-"+time.Now().Format("20060102-150405")+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screenshots in %s", dir)
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Log(err)
		}
	})
	return &screenshots{dir: dir}
}

// tab is one page of the demo in its own chromedp context. Its methods
// are the steps of a user, each bounded by actionTimeout, and fail the
// test when a step cannot be done.
type tab struct {
	t     *testing.T
	ctx   context.Context
	name  string // in screenshot names and errors; "" for the first tab
	base  string
	shots *screenshots

	// Filled by the listener that openTab installs, which must not block:
	// loads gets a value for each page load, dialogs the message of each
	// alert (app.js reports a failed API call so) and exceptions each
	// uncaught JavaScript error.
	loads      chan struct{}
	dialogs    chan string
	exceptions chan string
}

// openTab opens a tab of browser; the options of chromedp.NewContext can
// give it its own browser context, with its own cookies.
func openTab(t *testing.T, browser context.Context, name, base string, shots *screenshots, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, opts...)
	t.Cleanup(cancel)
	b := &tab{
		t: t, ctx: ctx, name: name, base: base, shots: shots,
		loads:      make(chan struct{}, 8),
		dialogs:    make(chan string, 8),
		exceptions: make(chan string, 8),
	}
	// The first action opens the tab and binds it to ctx, so it gets no
	// step timeout of its own: ctx has browserTimeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventLoadEventFired:
			offer(b.loads, struct{}{})
		case *page.EventJavascriptDialogOpening:
			offer(b.dialogs, ev.Message)
		case *runtime.EventExceptionThrown:
			offer(b.exceptions, (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// offer sends v on ch unless ch is full.
func offer[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// open loads the demo's page.
func (b *tab) open() {
	b.t.Helper()
	b.do("open "+b.base, chromedp.Navigate(b.base+"/"), chromedp.WaitReady(chromedp.CSS("#set")))
}

// reload reloads the page, as a user does to see it again.
func (b *tab) reload() {
	b.t.Helper()
	b.do("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("#set")))
}

// setKey sets key to value (JSON, or bare text) through the #set form.
func (b *tab) setKey(key, value string) {
	b.t.Helper()
	b.do("fill in #set",
		chromedp.SendKeys(chromedp.CSS(`#set input[name="key"]`), key),
		chromedp.SendKeys(chromedp.CSS(`#set input[name="value"]`), value))
	b.submit("#set")
}

// logIn logs in as user through the #login form.
func (b *tab) logIn(user string) {
	b.t.Helper()
	b.do("fill in #login", chromedp.SendKeys(chromedp.CSS(`#login input[name="user"]`), user))
	b.submit("#login")
}

// logOut logs out through the #logout form.
func (b *tab) logOut() {
	b.t.Helper()
	b.submit("#logout")
}

// logOutOtherDevices ends the user's other sessions through #logout-others.
func (b *tab) logOutOtherDevices() {
	b.t.Helper()
	b.submit("#logout-others")
}

// submit clicks form's button and waits for the reload that app.js does
// after its API call, failing at once when the page alerts instead.
func (b *tab) submit(form string) {
	b.t.Helper()
	for len(b.loads) > 0 {
		<-b.loads // loads from before the click
	}
	b.do("click "+form+"'s button", chromedp.Click(chromedp.CSS(form+" button")))
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	select {
	case <-b.loads:
	case msg := <-b.dialogs:
		// Close the alert, which blocks the page, for the screenshot.
		_, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		b.fatalf("submitting %s: the page alerted %q (close: %v)", form, msg, err)
	case <-ctx.Done():
		b.fatalf("submitting %s: no page load within %v", form, actionTimeout)
	}
	b.do("wait for the page", chromedp.WaitReady(chromedp.CSS("#set"))) // #set is always on the page
}

// clickPlusOne clicks the +1 button, whose reply, want, is the count the
// server stored.
func (b *tab) clickPlusOne(want int) {
	b.t.Helper()
	b.do("click +1", chromedp.Click(chromedp.CSS("#click")))
	b.waitClicks(want)
}

// waitClicks waits for the page to show want clicks.
func (b *tab) waitClicks(want int) {
	b.t.Helper()
	valueOf(b, fmt.Sprintf("wait for %d clicks", want), chromedp.Poll[bool](
		fmt.Sprintf(`document.getElementById("clicks").textContent === "%d"`, want),
		chromedp.WithPollingTimeout(actionTimeout)))
}

// wantEntry checks that the #contents row of key shows value.
func (b *tab) wantEntry(key, value string) {
	b.t.Helper()
	sel := fmt.Sprintf("#contents tr[data-key=%q]", key)
	if !b.has(sel) {
		b.t.Errorf("%s#contents has no row for %q", b.prefix(), key)
		return
	}
	if row := b.textOf(sel); !strings.Contains(row, value) {
		b.t.Errorf("%s#contents row of %q = %q, want it to show %s", b.prefix(), key, row, value)
	}
}

// visits returns the visit counter.
func (b *tab) visits() int {
	b.t.Helper()
	s := b.textOf("#visits strong")
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		b.fatalf("#visits strong = %q, not a number", s)
	}
	return n
}

// sessionID returns the start of the session id that the page shows.
func (b *tab) sessionID() string {
	b.t.Helper()
	return b.textOf("#session-id")
}

// flashes returns the flash messages on the page.
func (b *tab) flashes() []string {
	b.t.Helper()
	return valueOf(b, "read the flashes", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#flashes p.flash"), (p) => p.textContent.trim())`))
}

// textOf returns the text of the element sel, which must be on the page.
func (b *tab) textOf(sel string) string {
	b.t.Helper()
	if !b.has(sel) {
		b.fatalf("%s is not on the page", sel)
	}
	return valueOf(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// has reports whether an element matches sel now, without waiting for one.
func (b *tab) has(sel string) bool {
	b.t.Helper()
	return b.count(sel) > 0
}

// count returns how many elements match sel now.
func (b *tab) count(sel string) int {
	b.t.Helper()
	return valueOf(b, "count "+sel, chromedp.Evaluate[int](
		fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
}

// screenshot saves the whole page as the next numbered PNG, and reports the
// JavaScript errors that the page threw since the last one.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	b.save(name)
	for len(b.exceptions) > 0 {
		b.t.Errorf("%sJavaScript error before %q: %s", b.prefix(), name, <-b.exceptions)
	}
}

// save writes the page's screenshot, numbered, with the tab's name.
func (b *tab) save(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err == nil {
		b.shots.n++
		if b.name != "" {
			name = b.name + "-" + name
		}
		err = os.WriteFile(filepath.Join(b.shots.dir, fmt.Sprintf("%02d-%s.png", b.shots.n, name)), png, 0o644)
	}
	if err != nil {
		b.t.Errorf("%sscreenshot %q: %v", b.prefix(), name, err)
	}
}

// do runs actions, failing the test with what when they fail.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// valueOf runs action and returns its value, failing the test with what
// when it fails. A function, as methods cannot have type parameters.
func valueOf[T any](b *tab, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	return v
}

// fatalf saves a screenshot of the page as it is, then fails the test.
func (b *tab) fatalf(format string, args ...any) {
	b.t.Helper()
	b.save("failed")
	b.t.Fatalf("%s%s", b.prefix(), fmt.Sprintf(format, args...))
}

// prefix starts the tab's messages with its name, if it has one.
func (b *tab) prefix() string {
	if b.name == "" {
		return ""
	}
	return b.name + ": "
}
