#!/bin/bash
# pgha fencing guard: kills the local postgres when the agent stops proving that it holds the leader key.
#
# The agent spawns this script in a session of its own (setsid), so a SIGSTOP or SIGKILL of the agent does not
# reach it, and feeds it one line at a time on stdin:
#   arm <remaining_ms> <postmaster_pid> <postmaster_starttime> [<sent_uptime_ms>]
#       the deadline is <sent_uptime_ms> + <remaining_ms> on the /proc/uptime clock (receipt time when
#       <sent_uptime_ms> is absent): a line the agent wrote just before it froze, read late, still names the
#       moment the agent meant, not a later one. starttime is field 22 of /proc/<pid>/stat (guards pid reuse).
#   disarm     postgres is down, a replica, or paused: stop watching
#   exit       leave (refused while armed: an armed guard is only ever disarmed)
#   status     one line: armed|disarmed and the time left
# When the deadline passes it stops the postmaster (SIGSTOP, so it cannot fork), SIGKILLs every descendant of it
# (postgres children call setsid(): a process-group kill would miss them), SIGKILLs the postmaster, prints
# `fired <reason> late_by_ms=<n>`, appends a line to <log_file> and to <marker_file>.
# On stdin EOF (the agent died): disarmed -> exit; armed -> keep the deadline, fire when it passes (unless the
# postmaster is already gone), then exit.
#
# Usage: fencing-guard.sh <log_file> <marker_file> [<watchdog_device>]
# With a watchdog device, the guard opens it when armed, writes a byte at each arm line (the agent confirmed its
# key) and closes it with the magic 'V' on disarm and after it fired.
set -u
trap '' PIPE HUP INT

log_file=$1
marker_file=$2
watchdog_device=${3:-}

armed=0
deadline_ms=0
pm_pid=0
pm_start=0
fenced=""
eof=0
watchdog_open=0
NOW_MS=0

now_ms() {
  local up rest
  read -r up rest < /proc/uptime
  NOW_MS=$(( 10#${up/./} * 10 ))
}

# field 22 of /proc/<pid>/stat, or empty if the process is gone or a zombie
START_OF=""
start_of() {
  local line rest
  START_OF=""
  { read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
  rest=${line##*) } # comm may hold spaces and parentheses: fields restart after the last ") "
  local -a f
  set -f
  f=($rest) # word splitting without a here-string: no pipe or temp file per line
  set +f
  [[ ${f[0]} == Z || ${f[0]} == X ]] && return 1
  START_OF=${f[19]}
}

timestamp() {
  TZ=UTC printf -v TS '%(%Y-%m-%dT%H:%M:%SZ)T' -1
}

log() {
  timestamp
  printf '%s pid=%d %s\n' "$TS" "$$" "$*" >> "$log_file" 2>/dev/null
}

say() {
  printf '%s\n' "$*" 2>/dev/null
}

watchdog_kick() {
  [[ -z $watchdog_device ]] && return
  if (( ! watchdog_open )); then
    if exec 3>"$watchdog_device"; then
      watchdog_open=1
      log "watchdog $watchdog_device opened"
    else
      say "watchdog_failed cannot open $watchdog_device"
      log "watchdog $watchdog_device cannot be opened"
      watchdog_device=""
      return
    fi
  fi
  printf 'k' >&3 2>/dev/null || log "watchdog $watchdog_device keepalive failed"
}

watchdog_close() {
  (( watchdog_open )) || return
  printf 'V' >&3 2>/dev/null
  exec 3>&-
  watchdog_open=0
  log "watchdog $watchdog_device closed (magic close)"
}

# Every descendant of $1. The postmaster is stopped, so its children list is stable: read it from
# /proc/<pid>/task/<pid>/children (one file per process, milliseconds) where the kernel has it, else scan /proc.
DESCENDANTS=()
descendants_of() {
  DESCENDANTS=()
  if [[ -r /proc/$1/task/$1/children ]]; then
    local -a queue=("$1") kids
    local p k
    while (( ${#queue[@]} )); do
      p=${queue[0]}
      queue=("${queue[@]:1}")
      kids=()
      { read -r -a kids < "/proc/$p/task/$p/children"; } 2>/dev/null
      for k in "${kids[@]}"; do
        DESCENDANTS+=("$k")
        queue+=("$k")
      done
    done
    return
  fi
  local -A children=()
  local stat line rest pid
  for stat in /proc/[0-9]*/stat; do
    { read -r line < "$stat"; } 2>/dev/null || continue
    pid=${stat#/proc/}
    pid=${pid%/stat}
    rest=${line##*) } # comm may hold spaces and parentheses: fields restart after the last ") "
    rest=${rest#* }
    children[${rest%% *}]+=" $pid"
  done
  local -a queue=("$1")
  while (( ${#queue[@]} )); do
    local p=${queue[0]}
    queue=("${queue[@]:1}")
    for pid in ${children[$p]:-}; do
      DESCENDANTS+=("$pid")
      queue+=("$pid")
    done
  done
}

fire() {
  local reason=$1 late killed=0 pass
  now_ms
  late=$(( NOW_MS - deadline_ms ))
  armed=0
  if ! start_of "$pm_pid" || [[ $START_OF != "$pm_start" ]]; then
    say "expired postmaster_gone late_by_ms=$late"
    log "deadline passed ($reason) but postmaster $pm_pid is already gone: nothing to fence"
    watchdog_close
    return
  fi
  kill -STOP "$pm_pid" 2>/dev/null
  # a second pass catches a child forked between the SIGSTOP and the first scan
  for pass in 1 2; do
    descendants_of "$pm_pid"
    if (( ${#DESCENDANTS[@]} )); then
      kill -KILL "${DESCENDANTS[@]}" 2>/dev/null
      (( ${#DESCENDANTS[@]} > killed )) && killed=${#DESCENDANTS[@]}
    fi
  done
  kill -KILL "$pm_pid" 2>/dev/null
  # a process in uninterruptible sleep (fsync at start-up) dies only when it wakes: never fence it twice
  fenced="$pm_pid:$pm_start"
  now_ms
  late=$(( NOW_MS - deadline_ms ))
  # the marker first: an agent that reads the stdout line counts the fire from the marker
  timestamp
  printf '%s fired %s postmaster=%d late_by_ms=%d\n' "$TS" "$reason" "$pm_pid" "$late" >> "$marker_file" 2>/dev/null
  log "fired $reason late_by_ms=$late: killed postmaster $pm_pid and $killed other processes"
  say "fired $reason late_by_ms=$late"
  watchdog_close
}

is_number() {
  [[ $1 =~ ^[0-9]+$ ]]
}

arm() {
  local remaining=${1:-} pid=${2:-} start=${3:-} sent=${4:-}
  if [[ $remaining == -* ]]; then remaining=0; fi
  if ! is_number "$remaining" || ! is_number "$pid" || ! is_number "$start" || { [[ -n $sent ]] && ! is_number "$sent"; }; then
    say "error usage: arm <remaining_ms> <postmaster_pid> <postmaster_starttime> [<sent_uptime_ms>]"
    return
  fi
  if [[ $pid:$start == "$fenced" ]]; then
    say "refused pid $pid: already fenced"
    return
  fi
  if (( armed )) && [[ $pid == "$pm_pid" && $start == "$pm_start" ]]; then
    : # the postmaster already armed for (the agent's every key confirmation): its identity was checked then, and
      # fire() checks it again before it kills anything; skipping /proc here halves the cost of a confirmation
  elif ! start_of "$pid" || [[ $START_OF != "$start" ]]; then
    say "refused pid $pid: starttime ${START_OF:-none} is not $start"
    log "refused to arm for postmaster $pid: starttime ${START_OF:-none} is not $start"
    return
  fi
  now_ms
  local base=$NOW_MS
  if [[ -n $sent ]] && (( sent < NOW_MS )); then base=$sent; fi
  deadline_ms=$(( base + remaining ))
  pm_pid=$pid
  pm_start=$start
  if (( ! armed )); then
    armed=1
    say "armed remaining_ms=$(( deadline_ms - NOW_MS ))"
    log "armed for postmaster $pid, $(( deadline_ms - NOW_MS )) ms left"
  fi
  watchdog_kick
}

handle() {
  local -a w
  set -f
  w=($1)
  set +f
  case ${w[0]:-} in
    arm) arm "${w[@]:1}" ;;
    disarm)
      if (( armed )); then log "disarmed"; fi
      armed=0
      watchdog_close
      say "disarmed" ;;
    exit)
      if (( armed )); then
        say "refused exit: armed"
      else
        log "exit requested"
        exit 0
      fi ;;
    status)
      now_ms
      if (( armed )); then say "status armed remaining_ms=$(( deadline_ms - NOW_MS ))"; else say "status disarmed"; fi ;;
    "") ;;
    *) say "error unknown command: ${w[0]}" ;;
  esac
}

log "started (agent pid $PPID)"
say "ready $$"
while :; do
  if (( armed )); then
    now_ms
    wait_ms=$(( deadline_ms - NOW_MS ))
    if (( wait_ms <= 0 )); then
      if (( eof )); then fire agent_gone; else fire deadline; fi
      if (( eof )); then log "exiting after the deadline (agent gone)"; exit 0; fi
      continue
    fi
    if (( eof )); then
      # nothing more will come: sleep towards the deadline, leaving early if postgres went away by itself
      if ! start_of "$pm_pid" || [[ $START_OF != "$pm_start" ]]; then
        log "agent gone and postmaster $pm_pid gone: exiting"
        watchdog_close
        exit 0
      fi
      (( wait_ms > 200 )) && wait_ms=200
      printf -v secs '%d.%03d' $(( wait_ms / 1000 )) $(( wait_ms % 1000 ))
      sleep "$secs"
      continue
    fi
    printf -v secs '%d.%03d' $(( wait_ms / 1000 )) $(( wait_ms % 1000 ))
    if IFS= read -r -t "$secs" line; then
      handle "$line"
    elif (( $? <= 128 )); then
      eof=1
      log "agent gone (stdin closed) while armed: keeping the deadline"
    fi
  else
    if (( eof )); then
      log "agent gone (stdin closed) while disarmed: exiting"
      exit 0
    fi
    if IFS= read -r line; then
      handle "$line"
    else
      [[ -n $line ]] && handle "$line"
      eof=1
    fi
  fi
done
