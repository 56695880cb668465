package m2mecho

import (
	"cmp"

	"github.com/m2mauth/m2mauth/middleware"
)

// Message is the Message of the *echo.HTTPError returned for a refusal.
// Echo's DefaultHTTPErrorHandler renders it as the JSON body every adapter
// sends, {"error": …, "error_description": …}. Printed (String, fmt's %v) it
// is the refusal's description, e.g. "token not found", so an error handler
// that prints HTTPError.Message, or logs HTTPError.Error()
// ("code=401, message=token not found, internal=…"), reads a sentence.
type Message struct {
	middleware.ErrorBody
}

// String returns the description, or the error code when there is none.
func (m Message) String() string { return cmp.Or(m.Description, m.Error) }
