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

	"github.com/dokv/dokv"
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
			"in key order, through the Worker's admin route (dokv.AdminHandler), to FILE (default: standard output). " +
			"The admin secret is read from $" + secretEnv + ". If FILE holds an interrupted export, the export " +
			"resumes after its last complete line. A progress line (entries, bytes, rate) goes to standard error.",
		run: runExport,
	}
	commands["import"] = &command{
		usage: "-url URL -store NAME [-i FILE]",
		doc: "Imports JSON Lines written by dokv export (from FILE, default standard input) into the store NAME " +
			"of a running Worker, through its admin route, in requests of up to 4 MiB. Importing is idempotent: " +
			"run an interrupted import again. The admin secret is read from $" + secretEnv + ".",
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
	req, err := http.NewRequestWithContext(ctx, method, c.base+dokv.AdminPath+route+"?"+query.Encode(), bytes.NewReader(body))
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
		var e struct{ Error string }
		_ = json.Unmarshal(data, &e)
		err = fmt.Errorf("%s %s: %s: %s", method, route, resp.Status, e.Error)
	}
	return resp, data, err
}

// progress prints a progress line to standard error, at most once a second
// and when done.
type progress struct {
	verb    string
	start   time.Time
	last    time.Time
	entries int64
	bytes   int64
}

func (p *progress) add(entries, bytes int64, done bool) {
	p.entries += entries
	p.bytes += bytes
	now := time.Now()
	if !done && now.Sub(p.last) < time.Second {
		return
	}
	p.last = now
	rate := float64(p.entries) / max(now.Sub(p.start).Seconds(), 1e-3)
	end := "\r"
	if done {
		end = "\n"
	}
	fmt.Fprintf(os.Stderr, "%s %d entries, %d bytes, %.0f entries/s%s", p.verb, p.entries, p.bytes, rate, end)
}

func runExport(fs *flag.FlagSet, args []string) error {
	var file string
	c, err := newAdminClient(fs, args, &file, "o", "the file to write (and to resume, if it holds an interrupted export)")
	if err != nil {
		return err
	}
	var out io.Writer = os.Stdout
	after := ""
	if file != "" {
		f, last, err := openForResume(file)
		if err != nil {
			return err
		}
		defer f.Close()
		out, after = f, last
	}
	return c.export(context.Background(), out, after)
}

// export copies the store's pages to out, starting after a key.
func (c *adminClient) export(ctx context.Context, out io.Writer, after string) error {
	p := &progress{verb: "exported", start: time.Now()}
	for {
		resp, body, err := c.do(ctx, http.MethodGet, "export", url.Values{"after": {after}}, nil)
		if err != nil {
			return err
		}
		if _, err := out.Write(body); err != nil {
			return err
		}
		p.add(int64(bytes.Count(body, []byte("\n"))), int64(len(body)), false)
		next := resp.Header.Get("Dokv-Next")
		if next == "" {
			p.add(0, 0, true)
			return nil
		}
		after = next
	}
}

// openForResume opens file for appending and returns the key of its last
// complete line ("" for a new or empty file), after cutting off a partial
// last line.
func openForResume(file string) (*os.File, string, error) {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, "", err
	}
	complete := bytes.LastIndexByte(data, '\n') + 1
	if err := f.Truncate(int64(complete)); err != nil {
		f.Close()
		return nil, "", err
	}
	if _, err := f.Seek(int64(complete), io.SeekStart); err != nil {
		f.Close()
		return nil, "", err
	}
	if complete == 0 {
		return f, "", nil
	}
	lines := bytes.Split(bytes.TrimSuffix(data[:complete], []byte("\n")), []byte("\n"))
	var last dokv.ExportLine
	if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil || last.Key == "" {
		f.Close()
		return nil, "", fmt.Errorf("%s: its last line is not an export line; not resuming", file)
	}
	fmt.Fprintf(os.Stderr, "resuming after %q (%d lines already in %s)\n", last.Key, len(lines), file)
	return f, last.Key, nil
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
func (c *adminClient) importFrom(ctx context.Context, in io.Reader) error {
	p := &progress{verb: "imported", start: time.Now()}
	r := bufio.NewReaderSize(in, 64<<10)
	var chunk []byte
	send := func() error {
		if len(chunk) == 0 {
			return nil
		}
		_, body, err := c.do(ctx, http.MethodPost, "import", url.Values{}, chunk)
		if err != nil {
			return err
		}
		var got struct{ Entries, Bytes int64 }
		if err := json.Unmarshal(body, &got); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		p.add(got.Entries, got.Bytes, false)
		chunk = chunk[:0]
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
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := send(); err != nil {
		return err
	}
	p.add(0, 0, true)
	return nil
}
