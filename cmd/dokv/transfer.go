package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/dokv/dokv/backup"
)

// secretEnv names the environment variable that holds the admin secret: a
// flag would leave it in shell histories and process lists.
const secretEnv = "DOKV_ADMIN_SECRET"

// importChunkBytes bounds the JSON Lines sent in one import request, below
// the 8 MiB request body a dokv Worker reads.
const importChunkBytes = 4 << 20

func init() {
	commands["export"] = &command{
		usage: "-url URL -store NAME [-o FILE]",
		doc: "Exports every entry of the store NAME of a running Worker as JSON Lines (key, version, value, expiry) " +
			"in key order, through the Worker's admin route (backup.AdminHandler), to FILE (default: standard output). " +
			"The admin secret is read from $" + secretEnv + ". If FILE holds an interrupted export, the export " +
			"resumes after its last complete line. An export that fails before its first page leaves FILE as it was " +
			"(and no FILE if there was none). A progress line (entries, bytes, rate) goes to standard error.",
		run: runExport,
	}
	commands["import"] = &command{
		usage: "-url URL -store NAME [-i FILE]",
		doc: "Imports JSON Lines written by dokv export (from FILE, default standard input) into the store NAME " +
			"of a running Worker, through its admin route, in requests of up to 4 MiB. Importing is idempotent: " +
			"run an interrupted import again. A malformed line stops the import with an error that names its line " +
			"in the input; the lines before it may have been imported. The admin secret is read from $" + secretEnv + ".",
		run: runImport,
	}
}

// adminClient calls a Worker's admin routes.
type adminClient struct {
	base, store, secret string
	client              *http.Client
}

func newAdminClient(fs *flag.FlagSet, args []string, file *string, fileFlag, fileDoc string) (*adminClient, error) {
	base := fs.String("url", "", "the Worker's URL, such as https://app.example.workers.dev")
	store := fs.String("store", "", "the name under which the Worker's admin handler serves the store")
	fs.StringVar(file, fileFlag, "", fileDoc)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *base == "" || *store == "" || fs.NArg() != 0 {
		return nil, errors.New("want -url URL -store NAME, and no other arguments")
	}
	secret := os.Getenv(secretEnv)
	if secret == "" {
		return nil, fmt.Errorf("set $%s to the Worker's admin secret", secretEnv)
	}
	return &adminClient{base: strings.TrimSuffix(*base, "/"), store: *store, secret: secret, client: &http.Client{Timeout: 5 * time.Minute}}, nil
}

func (c *adminClient) do(ctx context.Context, method, route string, query url.Values, body []byte) (*http.Response, []byte, error) {
	query.Set("store", c.store)
	req, err := http.NewRequestWithContext(ctx, method, c.base+backup.AdminPath+route+"?"+query.Encode(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.secret)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		e := &routeError{method: method, route: route, status: resp.Status}
		if json.Unmarshal(data, &e.body) != nil || e.body.Error == "" {
			e.body.Error = strings.TrimSpace(string(data))
		}
		err = e
	}
	return resp, data, err
}

// routeError is an admin route's error response.
type routeError struct {
	method, route, status string
	body                  struct {
		Error string `json:"error"`
		// Line is the refused line of an import request's body, counted
		// from 1; the message then starts with "line Line: ".
		Line int64 `json:"line"`
	}
}

func (e *routeError) Error() string {
	return fmt.Sprintf("%s %s: %s: %s", e.method, e.route, e.status, e.body.Error)
}

// stderr is where export and import report their progress; a variable, so
// that tests can read it.
var stderr io.Writer = os.Stderr

// progress reports an export's or an import's progress on stderr: one line
// of entries, bytes and rate, at most once a second while it runs and once
// when it ends. On a terminal the line is redrawn in place and ended with a
// newline at the end; elsewhere (a log, a pipe) each report is a line of
// its own, and the final one is not repeated.
type progress struct {
	w       io.Writer
	tty     bool
	verb    string
	start   time.Time
	last    time.Time // of the last report
	entries int64
	bytes   int64
	shown   string // the last report, "" before the first
}

func newProgress(verb string) *progress {
	now := time.Now()
	return &progress{w: stderr, tty: isTerminal(stderr), verb: verb, start: now, last: now}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// add counts entries and bytes, and reports them if a second has passed
// since the last report.
func (p *progress) add(entries, bytes int64) {
	p.entries += entries
	p.bytes += bytes
	if now := time.Now(); now.Sub(p.last) >= time.Second {
		p.last = now
		p.report(false)
	}
}

// done reports the totals as the last line. After a failure it does so only
// to finish a report already begun: an export refused at once says nothing
// but its error.
func (p *progress) done(failed bool) {
	if failed && p.shown == "" {
		return
	}
	p.report(true)
}

func (p *progress) report(final bool) {
	counts := fmt.Sprintf("%s %d entries, %d bytes", p.verb, p.entries, p.bytes)
	if final && !p.tty && strings.HasPrefix(p.shown, counts+",") {
		return // the last report, a line of its own, already says it all
	}
	line := fmt.Sprintf("%s, %.0f entries/s", counts, float64(p.entries)/max(time.Since(p.start).Seconds(), 1e-3))
	if !p.tty {
		fmt.Fprintln(p.w, line)
		p.shown = line
		return
	}
	// On a terminal the line is drawn over the last report; spaces clear
	// what is left of a longer one.
	pad := strings.Repeat(" ", max(len(p.shown)-len(line), 0))
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r%s%s%s", line, pad, end)
	p.shown = line
}

func runExport(fs *flag.FlagSet, args []string) (err error) {
	var file string
	c, err := newAdminClient(fs, args, &file, "o", "the file to write (and to resume, if it holds an interrupted export)")
	if err != nil {
		return err
	}
	if file == "" {
		return c.export(context.Background(), os.Stdout, "")
	}
	f, err := openForResume(file)
	if err != nil {
		return err
	}
	defer func() { err = f.finish(err) }()
	return c.export(context.Background(), f, f.after)
}

// export copies the store's pages to out, starting after a key.
func (c *adminClient) export(ctx context.Context, out io.Writer, after string) (err error) {
	p := newProgress("exported")
	defer func() { p.done(err != nil) }()
	for {
		resp, body, err := c.do(ctx, http.MethodGet, "export", url.Values{"after": {after}}, nil)
		if err != nil {
			return err
		}
		if _, err := out.Write(body); err != nil {
			return err
		}
		p.add(int64(bytes.Count(body, []byte("\n"))), int64(len(body)))
		next := resp.Header.Get("Dokv-Next")
		if next == "" {
			return nil
		}
		after = next
	}
}

// exportFile is the file of `dokv export -o FILE`. Nothing in it changes
// until the first page arrives, so that an export that fails at once (a
// wrong secret, an unreachable Worker) leaves the file as it was, and
// removes it if it created it.
type exportFile struct {
	f       *os.File
	created bool   // the export created the file
	keep    int64  // the bytes of complete lines it held, which stay
	after   string // the key of its last complete line, to resume after
	started bool   // the partial last line is cut off and writing began
	wrote   int64
}

// openForResume opens file for writing after its last complete line, or
// creates it.
func openForResume(file string) (*exportFile, error) {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		return &exportFile{f: f, created: true}, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	f, err = os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	complete := bytes.LastIndexByte(data, '\n') + 1
	e := &exportFile{f: f, keep: int64(complete)}
	if complete == 0 {
		return e, nil
	}
	lines := bytes.Split(bytes.TrimSuffix(data[:complete], []byte("\n")), []byte("\n"))
	var last backup.Line
	if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil || last.Key == "" {
		f.Close()
		return nil, fmt.Errorf("%s: its last line is not an export line; not resuming", file)
	}
	e.after = last.Key
	fmt.Fprintf(stderr, "resuming after %q (%d lines already in %s)\n", last.Key, len(lines), file)
	return e, nil
}

// Write writes p after the complete lines the file held, cutting off a
// partial last line first.
func (e *exportFile) Write(p []byte) (int, error) {
	if !e.started {
		if err := e.f.Truncate(e.keep); err != nil {
			return 0, err
		}
		if _, err := e.f.Seek(e.keep, io.SeekStart); err != nil {
			return 0, err
		}
		e.started = true
	}
	n, err := e.f.Write(p)
	e.wrote += int64(n)
	return n, err
}

// finish closes the file after the export ended with err, and removes it
// if the export created it and wrote nothing into it. It returns err, or
// the error of closing the file.
func (e *exportFile) finish(err error) error {
	closeErr := e.f.Close()
	if err != nil {
		if e.created && e.wrote == 0 {
			if rmErr := os.Remove(e.f.Name()); rmErr != nil {
				return errors.Join(err, rmErr)
			}
		}
		return err
	}
	return closeErr
}

func runImport(fs *flag.FlagSet, args []string) error {
	var file string
	c, err := newAdminClient(fs, args, &file, "i", "the file to read (default standard input)")
	if err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	return c.importFrom(context.Background(), in)
}

// importFrom sends the lines of in in chunks of at most importChunkBytes.
func (c *adminClient) importFrom(ctx context.Context, in io.Reader) (err error) {
	p := newProgress("imported")
	defer func() { p.done(err != nil) }()
	r := bufio.NewReaderSize(in, 64<<10)
	var chunk []byte
	var sent, lines int64 // the lines of the input sent, and read
	send := func() error {
		if len(chunk) == 0 {
			return nil
		}
		_, body, err := c.do(ctx, http.MethodPost, "import", url.Values{}, chunk)
		if err != nil {
			return atInputLine(err, sent)
		}
		var got struct{ Entries, Bytes int64 }
		if err := json.Unmarshal(body, &got); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		p.add(got.Entries, got.Bytes)
		chunk = chunk[:0]
		sent = lines
		return nil
	}
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if len(chunk)+len(line) > importChunkBytes {
				if err := send(); err != nil {
					return err
				}
			}
			chunk = append(chunk, line...)
			lines++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return send()
}

// atInputLine turns the line an import request refused, counted within
// that request's body, into the line of the input, the request having
// started after the input's line sent.
func atInputLine(err error, sent int64) error {
	var re *routeError
	if !errors.As(err, &re) || re.body.Line < 1 {
		return err
	}
	line := sent + re.body.Line
	msg, ok := strings.CutPrefix(re.body.Error, fmt.Sprintf("line %d: ", re.body.Line))
	if !ok {
		return err
	}
	re.body.Error = fmt.Sprintf("line %d: %s", line, msg)
	re.body.Line = line
	return re
}
