// Package redistest starts a real redis-server (Debian's package) for tests,
// on a free loopback port, with no persistence, and stops it when the test
// ends. Without redis-server the test is skipped with the reason, unless the
// environment variable CI is set: in CI it fails.
//
// Concurrency: a Server's methods are for the test's goroutine.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server process.
type Server struct {
	Addr  string // host:port on 127.0.0.1
	t     testing.TB
	cmd   *exec.Cmd
	args  []string
	ready string // what it logs once it accepts connections
}

// Start starts a redis-server for t; extra arguments (e.g. "--maxmemory",
// "1mb") are passed to it. It is stopped at the end of t.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	need(t)
	s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))), ready: "Ready to accept connections"}
	_, port, _ := net.SplitHostPort(s.Addr)
	// Its files (a replica's copy of its primary, say) go to a directory of
	// the test's, never to the package's.
	s.args = append([]string{"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--loglevel", "notice", "--dir", t.TempDir()}, extra...)
	s.cmd = exec.Command(redisServer(), s.args...)
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// need skips t, or fails it when CI is set, without redis-server.
func need(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server not found and CI is set: install it (apt-get install redis-server)")
		}
		t.Skip("redis-server not found (apt-get install redis-server); set CI to make this a failure")
	}
}

// Port returns the server's port.
func (s *Server) Port() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return port
}

// Cli runs redis-cli against the server and returns its output.
func (s *Server) Cli(args ...string) (string, error) {
	out, err := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", s.Port()}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Stop kills the server (as a crash would) and waits for it; Stop on a
// stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Pause stops the server without closing anything (SIGSTOP), as a Redis that
// hangs or a partition that drops packets would: connections stay open and
// get no answer. Resume continues it; Stop kills it paused or not.
func (s *Server) Pause() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatal(err)
	}
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.t.Fatal(err)
	}
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.cmd = exec.Command(redisServer(), s.args...)
	s.start()
}

func redisServer() string {
	bin, _ := exec.LookPath("redis-server")
	return bin
}

// start runs the command and returns once it logs that it accepts
// connections.
func (s *Server) start() {
	s.t.Helper()
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redis-server: %v", err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var log []string
		for sc.Scan() {
			if strings.Contains(sc.Text(), s.ready) {
				ready <- nil
				for sc.Scan() { // drain, so that the server never blocks on its stdout
				}
				return
			}
			log = append(log, sc.Text())
		}
		ready <- fmt.Errorf("redis-server exited before it was ready:\n%s", strings.Join(log, "\n"))
	}()
	select {
	case err := <-ready:
		if err != nil {
			s.t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		s.t.Fatal("redis-server not ready within 10 s")
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
