package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// startText runs the emulator in text mode on a free loopback port and
// returns what it printed up to its last line, "Stop with Ctrl-C."; the
// emulator is serving by then. It stops at the end of t.
func startText(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, pw, io.Discard); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: got %v, want nil after cancel", err)
		}
	})
	r := bufio.NewReader(pr)
	var out strings.Builder
	for !strings.HasSuffix(out.String(), "\nStop with Ctrl-C.\n") {
		l, err := r.ReadString('\n')
		out.WriteString(l)
		if err != nil {
			t.Fatalf("reading the start-up text: %v; got %q", err, out.String())
		}
	}
	go io.Copy(io.Discard, pr)
	return out.String()
}

// tryLines returns the shell lines printed under "Try it", in order.
func tryLines(t *testing.T, out string) []string {
	t.Helper()
	_, block, ok := strings.Cut(out, "\nTry it ")
	if !ok {
		t.Fatalf("got output %q, want a \"Try it\" block", out)
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if s, ok := strings.CutPrefix(l, "  "); ok {
			lines = append(lines, s)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("got %d shell lines %q, want 3 (mint, verify, add a machine)", len(lines), lines)
	}
	return lines
}

// TestTryItLines reads the curl lines the emulator prints and sends each
// one's request (method, URL, headers, body) with net/http, in the printed
// order, applying the pipeline and $TOKEN as a shell would: the first line
// mints a token into $TOKEN, the second verifies that token, the third adds a
// machine scoped to receiver.
func TestTryItLines(t *testing.T) {
	out := startText(t)
	lines := tryLines(t, out)
	baseURL := regexp.MustCompile(`(?m)^  base URL: +(\S+)$`).FindStringSubmatch(out)
	if baseURL == nil {
		t.Fatalf("got output %q, want a base URL line", out)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	env := map[string]string{}
	var minted struct{ ID, Token string }
	for i, want := range []struct {
		name   string
		assign string // the variable the line sets, if any
		path   string
		status int
	}{
		{"mint", "TOKEN", "/m2m_tokens", http.StatusCreated},
		{"verify", "", "/m2m_tokens/verify", http.StatusOK},
		{"add a machine", "", "/machines", http.StatusOK},
	} {
		t.Run(want.name, func(t *testing.T) {
			l, err := parseLine(lines[i], env)
			if err != nil {
				t.Fatalf("line %q: %v", lines[i], err)
			}
			if l.assign != want.assign {
				t.Fatalf("line %q sets %q, want %q", lines[i], l.assign, want.assign)
			}
			req, err := l.request()
			if err != nil {
				t.Fatalf("line %q: %v", lines[i], err)
			}
			if got := req.Method + " " + req.URL.String(); got != "POST "+baseURL[1]+want.path {
				t.Fatalf("line %q: got %s, want POST %s%s", lines[i], got, baseURL[1], want.path)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want.status {
				t.Fatalf("line %q: got %d %s, want %d", lines[i], resp.StatusCode, body, want.status)
			}
			printed := string(body) + "\n" // curl -w '\n'
			for _, f := range l.filters {
				if printed, err = filter(printed, f); err != nil {
					t.Fatalf("line %q: %v", lines[i], err)
				}
			}
			if l.assign != "" {
				env[l.assign] = strings.TrimRight(printed, "\n") // as $(…) does
			}

			switch want.name {
			case "mint":
				if err := json.Unmarshal(body, &minted); err != nil || !strings.HasPrefix(minted.Token, "mt_") {
					t.Fatalf("got %s (%v), want a token object with its mt_ value", body, err)
				}
				if env["TOKEN"] != minted.Token {
					t.Errorf("got TOKEN=%q from the pipeline, want the minted %q", env["TOKEN"], minted.Token)
				}
			case "verify":
				var v struct{ Object, ID string }
				if err := json.Unmarshal(body, &v); err != nil || v.Object != "machine_to_machine_token" || v.ID != minted.ID {
					t.Errorf("got %s (%v), want the token %s minted by the first line", body, err, minted.ID)
				}
			case "add a machine":
				var m struct {
					Object, Name   string
					SecretKey      string                  `json:"secret_key"`
					ScopedMachines []struct{ Name string } `json:"scoped_machines"`
				}
				if err := json.Unmarshal(body, &m); err != nil || m.Object != "machine" || m.Name != "worker" || !strings.HasPrefix(m.SecretKey, "ak_") ||
					len(m.ScopedMachines) != 1 || m.ScopedMachines[0].Name != "receiver" {
					t.Errorf("got %s (%v), want the machine worker scoped to receiver", body, err)
				}
			}
		})
	}
}

// TestTryItInShell pastes the printed lines into sh, with curl: the token
// minted into $TOKEN verifies and the machine is added. Without sh or curl it
// is skipped, unless CI is set.
func TestTryItInShell(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "grep", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found and CI is set: install it", tool)
			}
			t.Skipf("%s not found; set CI to make this a failure", tool)
		}
	}
	lines := tryLines(t, startText(t))
	script := lines[0] + "\necho \"$TOKEN\"\n" + lines[1] + "\n" + lines[2] + "\n"
	cmd := exec.Command("sh", "-c", script)
	// No proxy from the environment, no ~/.curlrc.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %v; stderr %q", err, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(got) != 3 {
		t.Fatalf("got output %q (stderr %q), want three lines: $TOKEN and two JSON objects", b, stderr.String())
	}
	var v, m struct{ Object, Name string }
	if !strings.HasPrefix(got[0], "mt_") ||
		json.Unmarshal([]byte(got[1]), &v) != nil || v.Object != "machine_to_machine_token" ||
		json.Unmarshal([]byte(got[2]), &m) != nil || m.Object != "machine" || m.Name != "worker" {
		t.Errorf("got %q, want an mt_ token, the verified token object and the machine worker", got)
	}
}

// A line is one printed shell line: curl's arguments, the commands its
// output is piped through, and the variable that $(…) assigns, if any.
type line struct {
	assign  string
	curl    []string
	filters [][]string
}

var assignment = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=\$\((.*)\)$`)

// parseLine reads s as a POSIX shell would, for the subset the emulator
// prints: an optional NAME=$(…) around a pipeline whose first command is curl.
func parseLine(s string, env map[string]string) (line, error) {
	var l line
	if m := assignment.FindStringSubmatch(s); m != nil {
		l.assign, s = m[1], m[2]
	}
	words, err := shellWords(s, env)
	if err != nil {
		return l, err
	}
	var cmds [][]string
	cmd := []string{}
	for _, w := range words {
		if w == pipe {
			cmds, cmd = append(cmds, cmd), []string{}
			continue
		}
		cmd = append(cmd, w)
	}
	cmds = append(cmds, cmd)
	if len(cmds[0]) == 0 || cmds[0][0] != "curl" {
		return l, fmt.Errorf("got command %q, want curl", cmds[0])
	}
	l.curl, l.filters = cmds[0][1:], cmds[1:]
	return l, nil
}

// pipe stands for an unquoted | in what shellWords returns; no word holds a
// NUL byte.
const pipe = "\x00|"

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// shellWords splits s into words: blanks separate them, '…' is literal, "…"
// takes the escapes \" \\ \$ and expands $NAME from env (an unset one is an
// error), and an unquoted | is a word of its own. Any other character that
// the shell treats specially, unquoted, is an error.
func shellWords(s string, env map[string]string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	end := func() {
		if in {
			words = append(words, cur.String())
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			end()
		case c == '|':
			end()
			words = append(words, pipe)
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			in, i = true, i+1+j
		case c == '"':
			in = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated \" in %q", s)
				}
				c := s[i]
				if c == '"' {
					break
				}
				switch {
				case c == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0:
					i++
					cur.WriteByte(s[i])
				case c == '$':
					name := varName.FindString(s[i+1:])
					v, ok := env[name]
					if !ok {
						return nil, fmt.Errorf("$%s is not set (in %q)", name, s)
					}
					cur.WriteString(v)
					i += len(name)
				case c == '`' || c == '\\':
					return nil, fmt.Errorf("unsupported %q in double quotes in %q", c, s)
				default:
					cur.WriteByte(c)
				}
			}
		case strings.IndexByte("$`\\;&<>()*?[]{}~#!", c) >= 0:
			return nil, fmt.Errorf("unsupported unquoted %q in %q", c, s)
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	end()
	return words, nil
}

// request builds the request that curl with args would send.
func (l line) request() (*http.Request, error) {
	var (
		method, url, body string
		hasBody           bool
		header            = http.Header{}
	)
	for i := 0; i < len(l.curl); i++ {
		a := l.curl[i]
		value := func() (string, error) {
			if i+1 >= len(l.curl) {
				return "", fmt.Errorf("curl %s needs a value", a)
			}
			i++
			return l.curl[i], nil
		}
		var err error
		switch {
		case a == "-sS":
		case a == "-w":
			var w string
			if w, err = value(); err == nil && w != `\n` {
				err = fmt.Errorf("got curl -w %q, want \\n", w)
			}
		case a == "-X":
			method, err = value()
		case a == "-H":
			var h string
			if h, err = value(); err == nil {
				k, v, ok := strings.Cut(h, ": ")
				if !ok {
					err = fmt.Errorf("curl -H %q: not Name: value", h)
				}
				header.Add(k, v)
			}
		case a == "-d":
			if body, err = value(); err == nil && strings.HasPrefix(body, "@") {
				err = fmt.Errorf("curl -d %q would read a file", body)
			}
			hasBody = true
		case strings.HasPrefix(a, "-"):
			err = fmt.Errorf("unexpected curl option %q", a)
		case url != "":
			err = fmt.Errorf("two URLs: %q and %q", url, a)
		default:
			url = a
		}
		if err != nil {
			return nil, err
		}
	}
	if method == "" || url == "" || !hasBody {
		return nil, fmt.Errorf("curl %q: want -X, a URL and -d", l.curl)
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = header
	return req, nil
}

// filter runs the command f of a pipeline on in: grep -o PATTERN (written
// as a basic regular expression that Go's regexp reads alike) or cut -dC -fN.
func filter(in string, f []string) (string, error) {
	var out strings.Builder
	lines := strings.SplitAfter(in, "\n")
	switch {
	case len(f) == 3 && f[0] == "grep" && f[1] == "-o":
		re, err := regexp.Compile(f[2])
		if err != nil {
			return "", err
		}
		for _, l := range lines {
			for _, m := range re.FindAllString(strings.TrimSuffix(l, "\n"), -1) {
				out.WriteString(m + "\n")
			}
		}
	case len(f) == 3 && f[0] == "cut" && strings.HasPrefix(f[1], "-d") && len(f[1]) == 3 && strings.HasPrefix(f[2], "-f"):
		n, err := strconv.Atoi(f[2][2:])
		if err != nil || n < 1 {
			return "", fmt.Errorf("cut %s: want one field number", f[2])
		}
		for _, l := range lines {
			if l == "" {
				continue
			}
			l = strings.TrimSuffix(l, "\n")
			if fields := strings.Split(l, f[1][2:]); len(fields) > 1 { // cut prints a line without the delimiter whole
				l = ""
				if n <= len(fields) {
					l = fields[n-1]
				}
			}
			out.WriteString(l + "\n")
		}
	default:
		return "", fmt.Errorf("unexpected command %q in the pipeline", f)
	}
	return out.String(), nil
}

// TestDocShowsTheLines checks that doc.go shows the lines tryIt prints, with
// … for the keys and IDs of a run: its first block of curl lines (later
// examples in doc.go are of other endpoints).
func TestDocShowsTheLines(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	for _, l := range strings.Split(string(b), "\n") {
		s, ok := strings.CutPrefix(l, "//\t")
		if ok && (strings.HasPrefix(s, "curl ") || strings.HasPrefix(s, "TOKEN=")) {
			doc = append(doc, s)
		} else if len(doc) > 0 {
			break // the end of the first block
		}
	}
	_, want := tryIt("http://127.0.0.1:8787/v1", "sk_test_…",
		machineInfo{Name: "caller", SecretKey: "ak_…"}, machineInfo{Name: "receiver", ID: "mch_…"})
	if strings.Join(doc, "\n") != strings.Join(want, "\n") {
		t.Errorf("doc.go shows\n%s\nwant\n%s", strings.Join(doc, "\n"), strings.Join(want, "\n"))
	}
}
