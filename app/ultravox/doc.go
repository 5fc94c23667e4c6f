// Package ultravox is the Ultravox REST client, its wire types, the protobuf
// duration type, the API error type, and the call websocket (the
// serverWebSocket medium).
//
// The REST schema is testdata/openapi.yaml (a copy of the published Ultravox
// schema); field names and types come from there. Where the public
// documentation is silent the client is tolerant: durations parse in several
// forms, error bodies in every shape seen in the wild, and list pages are
// followed by cursor rather than by the server's (possibly wrong-scheme) next
// URL.
//
// Safety rules the package keeps:
//   - The API key is sent only in the X-API-Key header. It never appears in an
//     error, a log record, a URL, or the %v / %+v / %#v of any value of this
//     package (Client and Options format themselves with the key redacted).
//   - A joinUrl is a credential. Logs and errors carry only RedactURL(joinURL).
//   - Plain http (and ws) are refused except for loopback hosts.
//   - Creating a call is never blindly retried: every create carries
//     metadata[MetaRequestID]; after an ambiguous failure the client looks the
//     call up by that id and returns it if it exists, so a flaky network never
//     creates two billable calls.
package ultravox
