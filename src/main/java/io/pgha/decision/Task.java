package io.pgha.decision;

/** A long operation on postgres that runs off the HA loop; one at a time (patroni-compat §3.12). */
public enum Task {
  BOOTSTRAP("bootstrap"),
  CLONE("clone"),
  START("start"),
  STOP("stop"),
  PROMOTE("promote"),
  DEMOTE("demote"),
  RESTART("restart"),
  CRASH_RECOVERY("crash recovery"),
  REWIND("rewind"),
  RELOAD("reload");

  private final String text;

  Task(String text) {
    this.text = text;
  }

  public String text() {
    return text;
  }
}
