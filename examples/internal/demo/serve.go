package demo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Serve serves h on s.Config.Addr until ctx ends (SIGINT/SIGTERM in the
// mains), then shuts the server down gracefully (at most 10 s for requests in
// flight). It prints the address and curl lines to out once listening.
func (s *Service) Serve(ctx context.Context, h http.Handler, out io.Writer) error {
	if s.Config.Addr == "" {
		return errNoListener
	}
	ln, err := net.Listen("tcp", s.Config.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.PrintUsage(out, BaseURL(ln.Addr().String()))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
