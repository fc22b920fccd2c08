package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/dap-platform/dap/internal/correlation"
	"github.com/dap-platform/dap/internal/mcpserver"
)

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming (SSE) working through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// chain wraps h with: a correlation id (a client's valid X-Request-Id is
// kept, else a new one; echoed in the response and handed to tool
// handlers in the request header), a body size limit, panic recovery and
// an access log line per request.
func chain(h http.Handler, log *slog.Logger, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(mcpserver.HeaderRequestID)
		if !correlation.Valid(id) {
			id = correlation.New()
			r.Header.Set(mcpserver.HeaderRequestID, id)
		}
		w.Header().Set(mcpserver.HeaderRequestID, id)
		r = r.WithContext(correlation.With(r.Context(), id))
		if r.ContentLength > maxBody {
			http.Error(w, fmt.Sprintf("request body of %d bytes is over the %d-byte limit (correlation id %s)", r.ContentLength, maxBody, id), http.StatusRequestEntityTooLarge)
			log.Warn("request refused: body too large", "correlation_id", id, "bytes", r.ContentLength)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic serving request", "correlation_id", id, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if sw.status == 0 {
					http.Error(sw, "internal error (correlation id "+id+")", http.StatusInternalServerError)
				}
			}
			log.LogAttrs(r.Context(), slog.LevelDebug, "http request",
				slog.String("correlation_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int64("elapsed_us", time.Since(start).Microseconds()),
				slog.String("remote", r.RemoteAddr))
		}()
		h.ServeHTTP(sw, r)
	})
}
