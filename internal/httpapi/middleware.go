package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// maxBatch bounds the messages of one JSON-RPC batch (MCP before
// 2025-06-18 allows batches): one POST must not fan out into thousands of
// database calls.
const maxBatch = 100

// chain wraps h with: a correlation id (a client's valid X-Request-Id is
// kept, else a new one; echoed in the response and handed to tool
// handlers in the request header), a body size limit, a bound on JSON-RPC
// batches, panic recovery and an access log line per request.
func chain(h http.Handler, log *slog.Logger, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(mcpserver.HeaderRequestID)
		if !correlation.Valid(id) {
			id = correlation.New()
			r.Header.Set(mcpserver.HeaderRequestID, id)
		}
		w.Header().Set(mcpserver.HeaderRequestID, id)
		r.Header.Set(mcpserver.HeaderClientAddr, r.RemoteAddr)
		r = r.WithContext(correlation.With(r.Context(), id))
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
		tooLarge := func(of string) {
			http.Error(sw, fmt.Sprintf("request body%s is over the %d-byte limit (correlation id %s)", of, maxBody, id), http.StatusRequestEntityTooLarge)
			log.Warn("request refused: body too large", "correlation_id", id, "content_length", r.ContentLength)
		}
		if r.ContentLength > maxBody {
			tooLarge(fmt.Sprintf(" of %d bytes", r.ContentLength))
			return
		}
		r.Body = http.MaxBytesReader(sw, r.Body, maxBody)
		if r.Method == http.MethodPost {
			// Read the (bounded) body here, so that a body without a
			// Content-Length gets the same answer as one with, and so that
			// batches can be counted before any message is handled.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
					tooLarge("")
					return
				}
				http.Error(sw, fmt.Sprintf("reading the request body: %v (correlation id %s)", err, id), http.StatusBadRequest)
				return
			}
			if batchLen(body) > maxBatch {
				http.Error(sw, fmt.Sprintf("JSON-RPC batch of more than %d messages; send at most %d per request (correlation id %s)", maxBatch, maxBatch, id), http.StatusBadRequest)
				log.Warn("request refused: batch too large", "correlation_id", id)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h.ServeHTTP(sw, r)
	})
}

// batchLen counts the messages of a JSON-RPC batch, up to maxBatch+1; it
// is 0 for anything else, including malformed JSON, which the MCP handler
// reports.
func batchLen(body []byte) int {
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) == 0 || body[0] != '[' {
		return 0
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return 0
	}
	n := 0
	for n <= maxBatch && dec.More() {
		var msg json.RawMessage
		if err := dec.Decode(&msg); err != nil {
			return 0
		}
		n++
	}
	return n
}
