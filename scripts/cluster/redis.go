package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// redisServer is a redis-server process on a loopback port, and the few
// commands the forged scenario sends it over RESP (the root module has no
// Redis client, and needs none).
type redisServer struct {
	addr string
	cmd  *exec.Cmd
}

func startRedis() (*redisServer, error) {
	r := &redisServer{addr: "127.0.0.1:" + freePort()}
	return r, r.start()
}

func (r *redisServer) start() error {
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("redis-server: %w (apt-get install redis-server)", err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Ready to accept connections") {
			go func() {
				for sc.Scan() {
				}
			}()
			return nil
		}
	}
	return errors.New("redis-server exited before it was ready")
}

// stop kills the server, as a crash would.
func (r *redisServer) stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *redisServer) do(args ...string) (any, error) {
	c, err := net.DialTimeout("tcp", r.addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return readRESP(bufio.NewReader(c))
}

func readRESP(rd *bufio.Reader) (any, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("resp: empty line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		out := make([]string, 0, max(n, 0))
		for range n {
			v, err := readRESP(rd)
			if err != nil {
				return nil, err
			}
			s, _ := v.(string)
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("resp: unexpected %q", line)
}

func (r *redisServer) keys() ([]string, error) {
	v, err := r.do("KEYS", "*")
	if err != nil {
		return nil, err
	}
	ks, _ := v.([]string)
	return ks, nil
}

func (r *redisServer) get(k string) (string, error) {
	v, err := r.do("GET", k)
	s, _ := v.(string)
	return s, err
}

func (r *redisServer) set(k, v string) error {
	_, err := r.do("SET", k, v, "PX", "60000")
	return err
}
