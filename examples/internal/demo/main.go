package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// RunFunc is the shape of an example's body: it runs until ctx ends, reads
// its configuration with getenv and prints to stdout.
type RunFunc func(ctx context.Context, getenv func(string) string, stdout io.Writer) error

// Handler builds an example service's routes on a Service set up by Run.
type Handler func(*Service) http.Handler

// Command is the main function of the example called name: it calls run
// with a context that ends on SIGINT or SIGTERM, os.Getenv and os.Stdout,
// and on error prints "name: error" to stderr and exits with status 1.
func Command(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Main is the main function of the example service called name: Command
// running Run with handler.
func Main(name string, handler Handler) {
	Command(name, func(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
		return Run(ctx, getenv, stdout, handler)
	})
}

// Run reads the Config with getenv, sets the Service up (printing to
// stdout), serves handler(svc) on it until ctx ends and closes it.
func Run(ctx context.Context, getenv func(string) string, stdout io.Writer, handler Handler) error {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	svc, err := Setup(cfg, stdout)
	if err != nil {
		return err
	}
	defer svc.Close()
	return svc.Serve(ctx, handler(svc), stdout)
}
