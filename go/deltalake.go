// Package deltalake reads and writes Delta Lake tables from Go, through the C ABI of the Rust
// deltalake crate (include/deltalake.h) linked statically with cgo.
//
// Scans come back as arrow-go RecordReaders and writes take them, both across the Arrow C data
// interface without copying the data. Errors carry the kind the core classifies them by, for
// errors.Is with ErrTableNotFound, ErrCommitConflict, ErrInvalidArgument and the others. Calls
// that do I/O take a context; cancelling it stops the work where the core can stop.
//
// The static library is built by cargo: run `go generate ./...` in this directory (it runs
// build-lib.sh) before `go test ./...` or `go build`.
package deltalake

//go:generate ./build-lib.sh

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#cgo LDFLAGS: ${SRCDIR}/lib/libdeltalake_ffi.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
#include <stdlib.h>
#include "deltalake.h"
*/
import "C"

import (
	"context"
	"runtime"
	"unsafe"
)

// Kind is the class of an error: the core's stable error kinds, with the same numbers as the C
// ABI's DeltaStatus.
type Kind int

// The error kinds.
const (
	KindNotFound            Kind = C.DELTA_STATUS_NOT_FOUND
	KindFileNotFound        Kind = C.DELTA_STATUS_FILE_NOT_FOUND
	KindAlreadyExists       Kind = C.DELTA_STATUS_ALREADY_EXISTS
	KindProtocol            Kind = C.DELTA_STATUS_PROTOCOL
	KindCommitConflict      Kind = C.DELTA_STATUS_COMMIT_CONFLICT
	KindSchemaMismatch      Kind = C.DELTA_STATUS_SCHEMA_MISMATCH
	KindConstraintViolation Kind = C.DELTA_STATUS_CONSTRAINT_VIOLATION
	KindInvalidArgument     Kind = C.DELTA_STATUS_INVALID_ARGUMENT
	KindNotSupported        Kind = C.DELTA_STATUS_NOT_SUPPORTED
	KindStorage             Kind = C.DELTA_STATUS_STORAGE
	KindIO                  Kind = C.DELTA_STATUS_IO
	KindCancelled           Kind = C.DELTA_STATUS_CANCELLED
	KindInternal            Kind = C.DELTA_STATUS_INTERNAL
)

// String is the kind's stable name (not_found, commit_conflict, ...).
func (k Kind) String() string {
	return C.GoString(C.delta_status_name(C.uint32_t(k)))
}

// Error is an error of the library: its kind and the core's message.
type Error struct {
	Kind    Kind
	Message string
	cause   error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "deltalake: " + e.Kind.String()
	}
	return "deltalake: " + e.Message
}

// Is matches the sentinel of the error's kind (ErrTableNotFound, ...), and an Error that is
// the same value.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t.Message == "" && t.cause == nil {
		return t.Kind == e.Kind
	}
	return t == e
}

// Unwrap gives the context's error for a call its context cancelled.
func (e *Error) Unwrap() error { return e.cause }

// The sentinels of the error kinds, for errors.Is.
var (
	ErrTableNotFound       = &Error{Kind: KindNotFound}
	ErrFileNotFound        = &Error{Kind: KindFileNotFound}
	ErrAlreadyExists       = &Error{Kind: KindAlreadyExists}
	ErrProtocol            = &Error{Kind: KindProtocol}
	ErrCommitConflict      = &Error{Kind: KindCommitConflict}
	ErrSchemaMismatch      = &Error{Kind: KindSchemaMismatch}
	ErrConstraintViolation = &Error{Kind: KindConstraintViolation}
	ErrInvalidArgument     = &Error{Kind: KindInvalidArgument}
	ErrNotSupported        = &Error{Kind: KindNotSupported}
	ErrStorage             = &Error{Kind: KindStorage}
	ErrIO                  = &Error{Kind: KindIO}
	ErrCancelled           = &Error{Kind: KindCancelled}
	ErrInternal            = &Error{Kind: KindInternal}
)

// ErrClosed is returned by the methods of a closed Table (it is also an ErrInvalidArgument).
var ErrClosed = &Error{Kind: KindInvalidArgument, Message: "the table is closed"}

// call runs one C call on a locked OS thread (the library keeps the last error per thread) and
// turns a failed status into an *Error. With a cancellable ctx, the call gets a cancel token
// that ctx's cancellation sets, and a call it stopped returns an error wrapping ctx.Err().
func call(ctx context.Context, f func(cancel *C.DeltaCancelToken) C.DeltaStatus) error {
	if err := ctx.Err(); err != nil {
		return &Error{Kind: KindCancelled, Message: "the operation was cancelled: " + err.Error(), cause: err}
	}
	var token *C.DeltaCancelToken
	if ctx.Done() != nil {
		token = C.delta_cancel_token_new()
		defer C.delta_cancel_token_free(token)
		stop := context.AfterFunc(ctx, func() { C.delta_cancel_token_cancel(token) })
		defer stop()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	status := f(token)
	if status == C.DELTA_STATUS_OK {
		return nil
	}
	err := &Error{Kind: Kind(status), Message: C.GoString(C.delta_last_error_message())}
	if err.Kind == KindCancelled {
		err.cause = ctx.Err()
	}
	return err
}

// callNow runs a C call that does no I/O (see call).
func callNow(f func() C.DeltaStatus) error {
	return call(context.Background(), func(*C.DeltaCancelToken) C.DeltaStatus { return f() })
}

// cStrings holds the C copies of a call's string arguments until free.
type cStrings struct {
	allocated []unsafe.Pointer
}

func (c *cStrings) str(s string) *C.char {
	p := C.CString(s)
	c.allocated = append(c.allocated, unsafe.Pointer(p))
	return p
}

// optional is null for "" (the C ABI's "not given").
func (c *cStrings) optional(s string) *C.char {
	if s == "" {
		return nil
	}
	return c.str(s)
}

// list is a C array of the strings; null for a nil slice.
func (c *cStrings) list(items []string) **C.char {
	if items == nil {
		return nil
	}
	size := C.size_t(max(len(items), 1)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))
	array := C.malloc(size)
	c.allocated = append(c.allocated, array)
	slots := unsafe.Slice((**C.char)(array), max(len(items), 1))
	for i, s := range items {
		slots[i] = c.str(s)
	}
	return (**C.char)(array)
}

// pairs is two C arrays of a map's keys and values; nulls for an empty map.
func (c *cStrings) pairs(m map[string]string) (keys, values **C.char, n C.size_t) {
	if len(m) == 0 {
		return nil, nil, 0
	}
	ks := make([]string, 0, len(m))
	vs := make([]string, 0, len(m))
	for k, v := range m {
		ks = append(ks, k)
		vs = append(vs, v)
	}
	return c.list(ks), c.list(vs), C.size_t(len(m))
}

func (c *cStrings) free() {
	for _, p := range c.allocated {
		C.free(p)
	}
	c.allocated = nil
}

// takeString copies a string the library returned and frees it.
func takeString(p *C.char) string {
	defer C.delta_string_free(p)
	return C.GoString(p)
}

// InitLogging shows the core's progress on standard error: each operation with its figures when
// it finishes, commits retried after a conflict, vacuum and optimize. The RUST_LOG environment
// variable filters it (e.g. deltalake=debug); deltalake=info when unset. It returns false,
// changing nothing, when logging was already set up.
func InitLogging() bool {
	return bool(C.delta_init_logging())
}
