package demotest

import (
	"bytes"
	"regexp"
	"sync"
)

// output collects what run prints and hands over the URL of its first
// "Listening on <url>" line.
type output struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	listening chan string // buffered; receives one URL
	sent      bool
}

func newOutput() *output { return &output{listening: make(chan string, 1)} }

var listeningRE = regexp.MustCompile(`(?m)^Listening on (http://\S+)\n`)

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if !o.sent {
		if m := listeningRE.FindSubmatch(o.buf.Bytes()); m != nil {
			o.sent = true
			o.listening <- string(m[1])
		}
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
