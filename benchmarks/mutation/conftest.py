"""The frozen test copies under at-*/ reproduce a recorded measurement of an older revision; they are run by
run.sh against that revision, never collected against the current code."""

collect_ignore_glob = ["at-*/*"]
