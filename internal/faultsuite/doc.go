// Package faultsuite runs every table that lists, of both products, through
// every fault the sandbox can inject, via the SDK path and via the `query`
// command, and asserts that each case ends in the exact full result or in a
// clear error: never a hang, never a partial result, never a leaked secret.
// It has tests only.
package faultsuite
