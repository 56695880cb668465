package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// scrape reads an example's Prometheus metrics: "name{labels}" → value.
func scrape(base string) (map[string]float64, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// delta renders the change of the series name between two scrapes, or "n/a"
// when the example does not export it.
func delta(before, after map[string]float64, name string) string {
	a, ok := after[name]
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%g", a-before[name])
}

// sum adds the series name over scrapes of several examples.
func sum(scrapes []map[string]float64, name string) (float64, bool) {
	var s float64
	found := false
	for _, m := range scrapes {
		if v, ok := m[name]; ok {
			s, found = s+v, true
		}
	}
	return s, found
}

// saveProfile writes the CPU profile of the example whose pprof is at debug,
// taken over d, to file (errors go to stderr: a profile is a diagnostic).
func saveProfile(debug string, d time.Duration, file string) {
	c := &http.Client{Timeout: d + 10*time.Second}
	resp, err := c.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", debug, int(d.Seconds())))
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood: profile:", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood: profile:", err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		fmt.Fprintln(os.Stderr, "flood: profile:", err)
	}
}
