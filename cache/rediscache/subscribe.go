package rediscache

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxMessage bounds the messages handed to the Verifier (which refuses
// anything over 64 KiB anyway). go-redis reads a message whole before it can
// be refused: what Redis sends a subscriber is bounded by its
// client-output-buffer-limit for pubsub (a hard 32 MB by default; lower it to
// bound a hostile publisher further).
const maxMessage = 64 << 10

// The subscription's liveness check and retry back-off.
const (
	pingEvery = time.Second           // a silent subscription is pinged this often
	minPause  = 50 * time.Millisecond // first pause after a failure
	maxPause  = time.Second           // cap on the pause between retries
)

// Subscribe implements verifier.SharedCache. Its goroutine receives the
// channel's messages; go-redis re-establishes the connection and the
// subscription after a failure, and each confirmation of it calls
// onSubscribed. A subscription silent for a second is pinged, so that a
// Redis that went away without closing the connection is noticed.
func (c *Cache) Subscribe(channel string, onMessage func([]byte), onSubscribed func()) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ps := c.client.Subscribe(ctx, c.prefix+channel) // an error here shows in Receive
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.receive(ctx, ps, onMessage, onSubscribed)
	}()
	return func() {
		cancel()
		_ = ps.Close()
		<-done
	}
}

func (c *Cache) receive(ctx context.Context, ps *redis.PubSub, onMessage func([]byte), onSubscribed func()) {
	pause := minPause
	t := time.NewTimer(0)
	<-t.C
	defer t.Stop()
	for ctx.Err() == nil {
		m, err := ps.ReceiveTimeout(ctx, pingEvery)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				pctx, cancel := c.bound(ctx)
				err = ps.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
			}
			t.Reset(pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
			pause = min(2*pause, maxPause)
			continue
		}
		pause = minPause
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				onSubscribed()
			}
		case *redis.Message:
			if len(m.Payload) <= maxMessage {
				onMessage([]byte(m.Payload))
			}
		}
	}
}
