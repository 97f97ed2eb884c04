// Cooperative interruption on SIGINT / SIGTERM.
//
// InstallInterruptHandlers() makes the first SIGINT or SIGTERM set a flag that long loops
// poll with Interrupted(); they then save their state and return cleanly. A second SIGINT
// restores the default action, so a user can still force an exit (Ctrl-C twice); a second
// SIGTERM is ignored, so a scheduler's repeated TERM never kills a checkpoint half written.
#ifndef EDGELOOP_BASE_INTERRUPT_H_
#define EDGELOOP_BASE_INTERRUPT_H_

namespace edgeloop {

void InstallInterruptHandlers();
bool Interrupted();
// The signal number that interrupted us, 0 if none.
int InterruptSignal();
// For tests: clears the flag.
void ResetInterrupted();

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_INTERRUPT_H_
