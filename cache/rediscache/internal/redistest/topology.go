package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Sentinel is Redis as Sentinel runs it: a primary, a replica of it and
// three sentinels (quorum 2) watching them under the name Master, all
// redis-server processes on loopback, stopped at the end of the test. The
// sentinels judge a primary down after half a second.
type Sentinel struct {
	Master    string
	Primary   *Server
	Replica   *Server
	Sentinels []*Server
}

// StartSentinel starts a Sentinel set-up for t.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	need(t)
	fast := []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}
	st := &Sentinel{Master: "m2mauth"}
	st.Primary = Start(t, fast...)
	st.Replica = Start(t, append(fast, "--replicaof", "127.0.0.1", st.Primary.Port())...)
	dir := t.TempDir()
	for i := range 3 {
		s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))), ready: "+monitor master"}
		conf := filepath.Join(dir, fmt.Sprintf("sentinel%d.conf", i))
		body := fmt.Sprintf("port %s\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %s 2\nsentinel down-after-milliseconds %[3]s 500\n"+
			"sentinel failover-timeout %[3]s 3000\nsentinel parallel-syncs %[3]s 1\n",
			s.Port(), dir, st.Master, st.Primary.Port())
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		s.args = []string{conf, "--sentinel"}
		s.cmd = exec.Command(redisServer(), s.args...)
		s.start()
		t.Cleanup(s.Stop)
		st.Sentinels = append(st.Sentinels, s)
	}
	// The replica is in sync before the test starts.
	waitFor(t, 10*time.Second, "replica in sync", func() bool {
		out, _ := st.Replica.Cli("INFO", "replication")
		return strings.Contains(out, "master_link_status:up")
	})
	return st
}

// SentinelAddrs returns the sentinels' addresses.
func (st *Sentinel) SentinelAddrs() []string {
	var out []string
	for _, s := range st.Sentinels {
		out = append(out, s.Addr)
	}
	return out
}

// MasterAddr returns the primary's address as the first sentinel knows it.
func (st *Sentinel) MasterAddr() string {
	out, _ := st.Sentinels[0].Cli("SENTINEL", "get-master-addr-by-name", st.Master)
	f := strings.Fields(out)
	if len(f) != 2 {
		return ""
	}
	return net.JoinHostPort(f[0], f[1])
}

// WaitPromoted waits (at most 20 s) until the sentinels have promoted the
// replica, and until it takes writes.
func (st *Sentinel) WaitPromoted(t testing.TB) {
	t.Helper()
	waitFor(t, 20*time.Second, "replica promoted", func() bool {
		if st.MasterAddr() != st.Replica.Addr {
			return false
		}
		out, _ := st.Replica.Cli("ROLE")
		return strings.HasPrefix(out, "master")
	})
}

// Cluster is a Redis Cluster of n primaries (no replicas) on loopback,
// created with redis-cli --cluster create, stopped at the end of the test.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts a Cluster of n primaries for t and waits until every
// node reports cluster_state:ok.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	need(t)
	dir := t.TempDir()
	c := &Cluster{}
	var addrs []string
	for i := range n {
		s := Start(t, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes%d.conf", i)), "--dir", dir)
		c.Nodes = append(c.Nodes, s)
		addrs = append(addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	if out, err := exec.Command("redis-cli", append(args, "--cluster-yes")...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitFor(t, 20*time.Second, "cluster_state:ok on every node", func() bool {
		for _, s := range c.Nodes {
			if out, _ := s.Cli("CLUSTER", "INFO"); !strings.Contains(out, "cluster_state:ok") {
				return false
			}
		}
		return true
	})
	return c
}

// Addrs returns the nodes' addresses.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, s := range c.Nodes {
		out = append(out, s.Addr)
	}
	return out
}

// waitFor polls cond every 20 ms until it holds, failing t after limit.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitReplicated waits (at most 10 s) until every replica of s has
// acknowledged its writes so far.
func WaitReplicated(t testing.TB, s *Server) {
	t.Helper()
	waitFor(t, 10*time.Second, "writes replicated", func() bool {
		out, _ := s.Cli("WAIT", "1", "100")
		return out == "1"
	})
}
