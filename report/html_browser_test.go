package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"
)

// chromiumPath is Debian's chromium. The test never downloads a browser.
const chromiumPath = "/usr/bin/chromium"

// requireChromium skips the test when chromium is missing, and fails it instead when
// $KEYWARDEN_REQUIRE_TOOLS is 1, as in CI.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("KEYWARDEN_REQUIRE_TOOLS") == "1" {
			t.Fatalf("chromium is required (KEYWARDEN_REQUIRE_TOOLS=1) but not installed: %v", err)
		}
		t.Skipf("chromium not installed (apt-get install chromium): %v", err)
	}
}

// screenshotPath is where the report's screenshot is kept for CI: under $KEYWARDEN_ARTIFACTS when
// set, else in a fixed directory under the system temp dir, which outlives the test.
func screenshotPath() string {
	if dir := os.Getenv("KEYWARDEN_ARTIFACTS"); dir != "" {
		return filepath.Join(dir, "html-report.png")
	}
	return filepath.Join(os.TempDir(), "keywarden-test-artifacts", "html-report.png")
}

// browserEvents records what the page did that the test forbids or wants to see.
type browserEvents struct {
	mu         sync.Mutex
	requests   []string
	dialogs    []string
	exceptions []string
	errors     []string
}

func (b *browserEvents) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, fmt.Sprintf("%s: %s", e.Type, e.Message))
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.exceptions = append(b.exceptions, fmt.Sprintf("%s at %d:%d", msg, d.LineNumber+1, d.ColumnNumber+1))
	case *log.EventEntryAdded:
		// A Content-Security-Policy violation, such as a blocked inline script, is logged here.
		if e.Entry.Level == log.EntryLevelError {
			b.errors = append(b.errors, e.Entry.Text)
		}
	}
}

func TestHTMLInBrowser(t *testing.T) {
	requireChromium(t)
	res := auditResult(t)
	var buf bytes.Buffer
	if err := (HTML{}).Write(&buf, res); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fileURL := (&url.URL{Scheme: "file", Path: file}).String()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	events := &browserEvents{}
	if err := chromedp.Listen(bctx, events.listen); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	// A dialog would block the page: dismiss it so that the test fails on it rather than hangs.
	if err := chromedp.Listen(bctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(fileURL),
		chromedp.WaitVisible(chromedp.ID("filters")), // the script ran and showed the filters
	); err != nil {
		t.Fatalf("loading the report: %v", err)
	}

	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluating %s: %v", js, err)
		}
		return v
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(id string) string {
		t.Helper()
		return eval(`document.getElementById(` + jsString(id) + `).textContent.replace(/\s+/g, " ").trim()`)
	}
	// visible lists the rule of each finding shown, in table order.
	visible := func() []string {
		t.Helper()
		s := eval(`Array.from(document.querySelectorAll("#findings > tbody")).filter(b => !b.hidden && b.offsetParent !== null).map(b => b.dataset.rule).join(",")`)
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	checkShown := func(want []string) {
		t.Helper()
		if diff := cmp.Diff(want, visible()); diff != "" {
			t.Errorf("rows shown (-want +got):\n%s", diff)
		}
		if got, want := text("shown"), fmt.Sprintf("%d of 6 findings shown", len(want)); got != want {
			t.Errorf("status = %q, want %q", got, want)
		}
	}

	// The summary.
	for id, want := range map[string]string{
		"stat-repos": "4", "stat-repos-failed": "1", "total-findings": "6",
		"severity-counts": "critical 2 high 1 medium 1 low 2",
		"exposure-counts": "live 1 retired 1 unknown 2 not checked 2",
	} {
		if got := text(id); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	if got := eval(`(() => { const b = document.getElementById("live-banner"); return b && b.offsetHeight > 0 ? b.textContent : ""; })()`); !strings.Contains(got, "1 leaked key is still active") {
		t.Errorf("live banner = %q, want it visible and naming 1 live key", got)
	}
	if got := eval(`String(document.querySelectorAll("#chart-dates svg rect").length > 0 && document.querySelectorAll("#chart-rules svg rect").length)`); got != "5" {
		t.Errorf("rule chart bars = %s, want 5, one per rule (and a date chart)", got)
	}

	// Every row, most severe first; details start closed.
	all := []string{"private-key", "aws-access-token", "github-pat", "password-assignment", "generic-api-key", "generic-api-key"}
	checkShown(all)
	if got := eval(`String(Array.from(document.querySelectorAll("#findings tr.detail")).filter(d => d.offsetParent !== null).length)`); got != "0" {
		t.Errorf("%s detail rows visible before any is expanded, want 0", got)
	}

	// Filters: unticking critical hides the two critical findings; the repository filter keeps
	// the findings with a location in the GitLab repository (listed second, index 1).
	do("clicking the critical filter", chromedp.Click(chromedp.CSS(`#filters input[name="sev"][value="critical"]`)))
	checkShown(all[2:])
	do("clicking the critical filter again", chromedp.Click(chromedp.CSS(`#filters input[name="sev"][value="critical"]`)))
	checkShown(all)
	do("clicking the unknown exposure filter", chromedp.Click(chromedp.CSS(`#filters input[name="exp"][value="unknown"]`)))
	checkShown([]string{"private-key", "aws-access-token", "github-pat", "generic-api-key"})
	do("resetting the filters", chromedp.Click(chromedp.ID("reset")))
	checkShown(all)
	eval(`(() => { const s = document.getElementById("f-repo"); s.value = "1"; s.dispatchEvent(new Event("change", {bubbles: true})); return ""; })()`)
	checkShown([]string{"aws-access-token", "github-pat", "generic-api-key"})
	do("resetting the filters", chromedp.Click(chromedp.ID("reset")))

	// Search: typed text matches locations in the detail too, case-insensitively.
	do("typing a search", chromedp.SendKeys(chromedp.ID("q"), "MIRROR Sync"))
	checkShown([]string{"github-pat"})
	do("typing a search that matches nothing", chromedp.SendKeys(chromedp.ID("q"), "zzz"))
	checkShown(nil)
	if got := eval(`String(document.getElementById("nomatch").offsetHeight > 0)`); got != "true" {
		t.Error("no message says that nothing matches")
	}
	do("clearing the search", chromedp.Click(chromedp.ID("reset")))
	checkShown(all)

	// Sorting by date: oldest first, then newest first.
	byDate := []string{"private-key", "password-assignment", "generic-api-key", "aws-access-token", "github-pat", "generic-api-key"}
	do("sorting by date", chromedp.Click(chromedp.CSS(`button.sort[data-key="date"]`)))
	checkShown(byDate)
	if got := eval(`document.querySelector('th[data-key="date"]').getAttribute("aria-sort") + "," + document.querySelector('th[data-key="sev"]').hasAttribute("aria-sort")`); got != "ascending,false" {
		t.Errorf("aria-sort after sorting by date = %q, want ascending on the date column only", got)
	}
	do("sorting by date again", chromedp.Click(chromedp.CSS(`button.sort[data-key="date"]`)))
	rev := make([]string, len(byDate))
	for i, r := range byDate {
		rev[len(byDate)-1-i] = r
	}
	checkShown(rev)
	do("sorting by severity", chromedp.Click(chromedp.CSS(`button.sort[data-key="sev"]`)))
	checkShown(all)

	// Expanding with the keyboard: focus the live finding's button and press Enter.
	do("expanding a finding with the keyboard",
		chromedp.Focus(chromedp.CSS(`tbody[data-exp="live"] button.expand`)),
		chromedp.KeyEvent(kb.Enter))
	if got := eval(`(() => { const b = document.querySelector('tbody[data-exp="live"]'); const d = b.querySelector("tr.detail"); return [b.querySelector("button.expand").getAttribute("aria-expanded"), d.offsetHeight > 0, document.activeElement === b.querySelector("button.expand")].join(","); })()`); got != "true,true,true" {
		t.Errorf("after Enter: aria-expanded, detail visible, focus kept = %q, want true,true,true", got)
	}
	detail := eval(`document.querySelector('tbody[data-exp="live"] tr.detail').innerText`)
	for _, want := range []string{"payments-signing", "rsa-short", "deploy/keys/signing.pem:1", "Alice Example", "rotate it in the HSM or KMS now"} {
		if !strings.Contains(detail, want) {
			t.Errorf("expanded detail lacks %q:\n%s", want, detail)
		}
	}
	if got, want := eval(`document.querySelector('tbody[data-exp="live"] tr.detail table.locations a').href`),
		"https://github.com/acme/payments/blob/"+commitOf("pk1")+"/deploy/keys/signing.pem#L1"; got != want {
		t.Errorf("first location link = %q, want %q", got, want)
	}

	// The hostile path and message are text: no element came from them and no dialog opened.
	if got := eval(`String(document.querySelectorAll("img, iframe, object, embed, [onerror], [onload]").length + document.scripts.length)`); got != "1" {
		t.Errorf("elements that could run script, plus scripts = %s, want only the report's own script", got)
	}
	if got := eval(`Array.from(document.querySelectorAll("#findings code.path")).map(c => c.textContent).find(s => s.startsWith("conf/")) || ""`); got != hostilePath+":3" {
		t.Errorf("hostile path shown as %q, want the text %q", got, hostilePath+":3")
	}

	// Expand every finding for the screenshot, then take it.
	eval(`(() => { document.querySelectorAll('#findings button.expand[aria-expanded="false"]').forEach(b => { if (b.closest("tbody").dataset.sev !== "low") b.click(); }); return ""; })()`)
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("taking a screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("decoding the screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 1500 || len(shot) < 50_000 {
		t.Errorf("screenshot is %dx%d, %d bytes: too small to show the report", b.Dx(), b.Dy(), len(shot))
	}
	path := screenshotPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// Only the report itself was loaded, and nothing went wrong in the page.
	events.mu.Lock()
	defer events.mu.Unlock()
	if len(events.requests) == 0 {
		t.Error("saw no request at all: the network listener is not working")
	}
	for _, u := range events.requests {
		if u != fileURL {
			t.Errorf("page requested %q; only %q may be loaded", u, fileURL)
		}
	}
	for _, d := range events.dialogs {
		t.Errorf("a JavaScript dialog opened: %s", d)
	}
	for _, e := range events.exceptions {
		t.Errorf("script exception: %s", e)
	}
	for _, e := range events.errors {
		t.Errorf("console error: %s", e)
	}
	if err := chromedp.Cancel(bctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("closing chromium: %v", err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}
