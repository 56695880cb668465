package readme

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// rootModule is the module path of the repository's root.
const rootModule = "github.com/m2mauth/m2mauth"

// Markers, on the last non-blank line before a ```go fence:
//   - fragmentMarker: the block is deliberately not a whole file; the test
//     skips it and says so;
//   - samePackageMarker: the block is another file of the previous block's
//     package (as a handler's tests are), with its own package clause and
//     imports.
const (
	fragmentMarker    = "<!-- fragment -->"
	samePackageMarker = "<!-- same package -->"
)

// A block is one ```go block of the README.
type block struct {
	line        int // of its opening fence, 1-based
	src         string
	fragment    bool
	samePackage bool
}

// TestReadmeGoBlocks writes every ```go block of README.md that is not
// marked as a fragment into a package of its own in a throwaway module, with
// the README's own "Use it in your service" replace lines pointed at this
// checkout, then runs go mod tidy, go vet (which type-checks test files too)
// and go test on the packages with tests, with GOWORK=off, GOFLAGS=-mod=mod
// and the environment's GOPROXY. A block that declares a func TestXxx(t *testing.T) is written as
// a _test.go file, so that go test runs it: the README's handler tests pass,
// not only compile. The go.sum files of the repository's modules seed the
// throwaway module's, so that nothing needs the network when the module
// cache is warm (CI's .ci/run downloads every module first).
//
// It fails if no block was built, and skips only when the go command is
// not on PATH outside CI.
func TestReadmeGoBlocks(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("go not on PATH in CI: %v", err)
		}
		t.Skipf("go not on PATH: %v", err)
	}
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(string(readme))
	mods := modules(t, root)
	replaces := readmeReplaces(t, string(readme), root, mods)

	dir := t.TempDir()
	var gomod strings.Builder
	fmt.Fprintf(&gomod, "module example.com/readme\n\ngo 1.25.0\n\nreplace (\n")
	for _, r := range replaces {
		fmt.Fprintf(&gomod, "\t%s => %s\n", r.module, r.dir)
	}
	// Requiring them all up front puts their requirements in the build list,
	// so that go mod tidy takes a framework imported by a block at the
	// version the repository uses instead of asking the proxy for its latest.
	gomod.WriteString(")\n\nrequire (\n")
	for _, r := range replaces {
		fmt.Fprintf(&gomod, "\t%s v0.0.0-00010101000000-000000000000\n", r.module)
	}
	gomod.WriteString(")\n")
	write(t, filepath.Join(dir, "go.mod"), gomod.String())
	write(t, filepath.Join(dir, "go.sum"), sums(t, mods))

	built, tests := 0, 0
	var testPkgs []string // ./lineNNNN of the packages with tests
	pkgDir := ""          // the package of the last block built
	for _, b := range blocks {
		if b.fragment {
			t.Logf("README.md:%d: a fragment, skipped", b.line)
			continue
		}
		if !b.samePackage || pkgDir == "" {
			if b.samePackage {
				t.Fatalf("README.md:%d: %s, but no block before it", b.line, samePackageMarker)
			}
			pkgDir = filepath.Join(dir, fmt.Sprintf("line%04d", b.line))
		}
		name := fmt.Sprintf("line%04d.go", b.line)
		if testFuncRE.MatchString(b.src) {
			name = fmt.Sprintf("line%04d_test.go", b.line)
			tests++
			if p := "./" + filepath.Base(pkgDir); !slices.Contains(testPkgs, p) {
				testPkgs = append(testPkgs, p)
			}
		}
		write(t, filepath.Join(pkgDir, name), b.src)
		built++
	}
	if built == 0 {
		t.Fatal("README.md has no ```go block to build")
	}
	if tests == 0 {
		t.Error("README.md has no ```go block with a test (\"Testing your handlers\")")
	}

	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod "+os.Getenv("GOFLAGS"))
	for _, args := range [][]string{
		{"mod", "tidy"},
		append(append([]string{"vet"}, raceFlags...), "./..."),
		append(append([]string{"test", "-count=1", "-vet=off"}, raceFlags...), testPkgs...),
	} {
		start := time.Now()
		cmd := exec.Command(gobin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		t.Logf("go %s: %v\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out)
		if err != nil {
			t.Fatalf("go %s: %v\n%s\n(a file lineNNNN.go is the ```go block at that line of README.md)",
				strings.Join(args, " "), err, out)
		}
	}
	t.Logf("built %d blocks of README.md (%d with tests)", built, tests)
}

// testFuncRE finds a test function in a block.
var testFuncRE = regexp.MustCompile(`(?m)^func Test\w*\(t \*testing\.T\)`)

// goBlocks returns the ```go blocks of a Markdown text.
func goBlocks(md string) []block {
	var (
		out    []block
		cur    *block
		src    strings.Builder
		marker string // the last non-blank line outside a block, if a marker
	)
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.src = src.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			src.WriteString(line + "\n")
		case strings.TrimSpace(line) == "```go":
			cur = &block{line: n, fragment: marker == fragmentMarker, samePackage: marker == samePackageMarker}
			src.Reset()
		case strings.TrimSpace(line) != "":
			marker = ""
			if l := strings.TrimSpace(line); l == fragmentMarker || l == samePackageMarker {
				marker = l
			}
		}
	}
	return out
}

// A module of the repository.
type module struct {
	path string // module path
	dir  string // absolute directory
}

// modules returns the repository's modules: every go.mod outside .git,
// node_modules and testdata.
func modules(t *testing.T, root string) []module {
	t.Helper()
	var mods []module
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m := moduleRE.FindSubmatch(b)
		if m == nil {
			return fmt.Errorf("%s: no module line", p)
		}
		mods = append(mods, module{path: string(m[1]), dir: filepath.Dir(p)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

var moduleRE = regexp.MustCompile(`(?m)^module\s+(\S+)\s*$`)

// importable says whether users may require the module: not an example and
// not a conformance suite.
func importable(m module) bool {
	rel := strings.TrimPrefix(m.path, rootModule)
	return !strings.HasPrefix(rel, "/examples/") && !strings.HasSuffix(rel, "/conformance")
}

// A replace line of the README, pointed at this checkout.
type replace struct{ module, dir string }

// replaceRE matches the README's replace lines, which point at a clone in
// ../m2mauth.
var replaceRE = regexp.MustCompile(`(?m)^\s*(?:replace\s+)?(` + regexp.QuoteMeta(rootModule) + `\S*)\s+=>\s+\.\./m2mauth(\S*)\s*$`)

// readmeReplaces returns the README's replace lines with ../m2mauth made
// root, after checking that each names the module in its directory and that
// together they name every importable module.
func readmeReplaces(t *testing.T, md, root string, mods []module) []replace {
	t.Helper()
	byDir := map[string]string{}
	for _, m := range mods {
		byDir[m.dir] = m.path
	}
	var out []replace
	var named []string
	for _, m := range replaceRE.FindAllStringSubmatch(md, -1) {
		dir := filepath.Join(root, filepath.FromSlash(m[2]))
		if got, ok := byDir[dir]; !ok || got != m[1] {
			t.Errorf("README.md: replace %s => ../m2mauth%s: that directory holds module %q, want %s", m[1], m[2], got, m[1])
			continue
		}
		if !slices.Contains(named, m[1]) {
			out = append(out, replace{module: m[1], dir: dir})
			named = append(named, m[1])
		}
	}
	for _, m := range mods {
		if importable(m) && !slices.Contains(named, m.path) {
			t.Errorf("README.md: no replace line for module %s", m.path)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// sums concatenates the go.sum files of the modules.
func sums(t *testing.T, mods []module) string {
	t.Helper()
	var all bytes.Buffer
	for _, m := range mods {
		b, err := os.ReadFile(filepath.Join(m.dir, "go.sum"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all.Write(b)
	}
	return all.String()
}

// repoRoot is the directory of the root module, above this package's.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if m := moduleRE.FindSubmatch(b); m != nil && string(m[1]) == rootModule {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the test's directory", rootModule)
		}
		dir = parent
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
