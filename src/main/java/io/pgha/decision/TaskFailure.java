package io.pgha.decision;

/**
 * What follows a task that ended with an error (patroni-compat §3.12, §3.14). A finished task, or a failed one other
 * than bootstrap and start, is followed by a cycle at once ({@link #cycleNow}).
 */
public final class TaskFailure {
  private TaskFailure() {}

  /**
   * <ul>
   *   <li>bootstrap: {@link Action.CancelBootstrap} (stop postgres immediately, delete {@code initialize} so that
   *       another member may try, keep the data directory aside as {@code <data dir>.failed}); then
   *       {@link #afterBootstrapCancelled} stops the agent;</li>
   *   <li>start: nothing until the next loop_wait, not a tight loop of attempts;</li>
   *   <li>any other: nothing; the next cycle (at once) decides again.</li>
   * </ul>
   */
  public static Decision after(Task task, String error) {
    if (task == Task.BOOTSTRAP) {
      return new Decision(new Action.CancelBootstrap(), Reason.BOOTSTRAP_FAILED,
          Reason.BOOTSTRAP_FAILED.format() + " (" + error + ")", java.util.List.of());
    }
    if (task == Task.START) {
      return Decision.of(new Action.None(), Reason.START_FAILED_RETRY_LATER, task.text(), error);
    }
    return Decision.of(new Action.None(), Reason.TASK_FAILED, task.text(), error);
  }

  /** After {@link Action.CancelBootstrap} (whatever its outcome): the agent stops, saying why. */
  public static Decision afterBootstrapCancelled(String error) {
    String why = "bootstrap failed: " + error;
    return new Decision(new Action.Fatal(why), Reason.BOOTSTRAP_FAILED, why, java.util.List.of());
  }

  /** Whether the loop runs the next cycle at once after this decision of {@link #after}. */
  public static boolean cycleNow(Decision d) {
    return d.reason() == Reason.TASK_FAILED;
  }
}
