package spec

import (
	"testing"

	"github.com/forkproof/forkproof/internal/testbin"
)

// TestMain fails the run when a test leaves a process, a goroutine or a socket behind.
func TestMain(m *testing.M) { testbin.Main(m) }
