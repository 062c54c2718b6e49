package dev.switchboard.lb.e2e;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Makes sure no process the harness started outlives it: a shutdown hook that kills (SIGKILL)
 * whatever this JVM's descendants still run at exit — servers and HAProxy, even after an error or
 * Ctrl-C. (Servers also exit by themselves when the harness dies, on the end of their input.)
 */
final class ChildProcesses {
  private static final AtomicBoolean installed = new AtomicBoolean();

  private ChildProcesses() {}

  /** Installs the hook once per JVM. */
  static void killAllAtExit() {
    if (installed.compareAndSet(false, true)) {
      Runtime.getRuntime()
          .addShutdownHook(new Thread(ChildProcesses::killAll, "e2e-kill-child-processes"));
    }
  }

  /** Kills every descendant of this JVM still alive; returns how many there were. */
  static int killAll() {
    List<ProcessHandle> alive =
        ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList();
    alive.forEach(ProcessHandle::destroyForcibly);
    return alive.size();
  }
}
