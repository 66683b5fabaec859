// Package tty is what gnc does with a terminal a person types into or
// reads from:
//
//   - SafeWriter shows the bytes that would act on a terminal (controls,
//     escape sequences, invalid UTF-8) visibly, so a hostile peer cannot
//     rewrite the screen (safe display, for any mode whose stdout is a
//     terminal);
//   - LineEditor is line mode (stdin and stdout both terminals): lines
//     are edited locally, with history, and sent when Enter is pressed,
//     while the peer's data is printed above the line being edited;
//   - MakeRaw and EscapeFilter are --raw: every keystroke goes out at
//     once and unchanged, except ssh's escapes after Enter (~. to leave).
//
// Every change to a terminal's settings comes with a restore function
// that may be called any number of times, from any goroutine, so that a
// signal handler and a deferred call can both make sure of it.
package tty
