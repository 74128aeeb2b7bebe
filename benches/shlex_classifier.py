"""A Python classifier built on shlex, the baseline for benches/classify.rs.

It does what agent frameworks typically do in Python: split with shlex,
look for shell operators and metacharacters, take the first word as the
program, and match risky patterns with regular expressions.

Usage: python3 benches/shlex_classifier.py CORPUS_FILE [ROUNDS]
Prints one line: `<median ns per command> <commands>`.

       python3 benches/shlex_classifier.py --batch < IN.jsonl > OUT.jsonl
A batch classifier, as `sandboxcore classify --jsonl` is one: JSON lines
`{"command": ...}` in, one JSON result per line out, in order.
"""

import json
import re
import shlex
import sys
import time

OPERATORS = {"|", "||", "&", "&&", ";", ";;", "<", ">", ">>", "<<", "(", ")", "<&", ">&"}
META = re.compile(r"[$`*?\[~{]")
SAFE = {"pytest", "python", "python3", "npm", "node", "cargo", "go", "git", "ls", "cat", "grep"}
READ_ONLY = {"ls", "cat", "grep", "head", "tail", "wc", "find", "rg"}
RISKY = [
    (re.compile(r"\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\s+(/|~|\$HOME|\$\{HOME\})(\s|$)"), "critical"),
    (re.compile(r"(curl|wget)\b[^|]*\|\s*(sudo\s+)?(ba|z|k|da|a|fi)?sh\b"), "critical"),
    (re.compile(r"\bmkfs(\.\w+)?\b"), "critical"),
    (re.compile(r"\bdd\b.*\bof=/dev/"), "critical"),
    (re.compile(r">\s*/dev/sd"), "critical"),
    (re.compile(r":\(\)\s*\{"), "critical"),
    (re.compile(r"\bchmod\s+-R\s+777\s+/"), "critical"),
    (re.compile(r"\bsudo\b"), "medium"),
]
ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def classify(cmd):
    result = {"needs_shell": False, "argv": None, "programs": [], "risk": "low", "reasons": []}
    try:
        lex = shlex.shlex(cmd, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        tokens = list(lex)
    except ValueError as e:
        result.update(needs_shell=True, parse_error=str(e), risk="medium")
        return result
    if not tokens or any(t in OPERATORS for t in tokens) or "\n" in cmd or META.search(cmd):
        result["needs_shell"] = True
    else:
        result["argv"] = tokens
    program = tokens[0].rsplit("/", 1)[-1] if tokens else None
    if program:
        result["programs"].append(program)
        if program not in SAFE:
            result["reasons"].append("unknown_program")
    result["read_only"] = program in READ_ONLY and not result["needs_shell"]
    for pattern, level in RISKY:
        if pattern.search(cmd):
            result["reasons"].append(pattern.pattern)
            if ORDER[level] > ORDER[result["risk"]]:
                result["risk"] = level
    return result


def batch():
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            command = json.loads(line)["command"]
        except (ValueError, KeyError, TypeError) as e:
            out.write(json.dumps({"error": str(e)}) + "\n")
            continue
        result = classify(command)
        result["command"] = command
        out.write(json.dumps(result) + "\n")


def main():
    if sys.argv[1:] == ["--batch"]:
        batch()
        return
    with open(sys.argv[1]) as f:
        commands = [json.loads(line)["command"] for line in f if line.strip()]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    for c in commands[:50]:
        classify(c)  # warm up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for c in commands:
            classify(c)
        samples.append((time.perf_counter_ns() - start) / len(commands))
    samples.sort()
    print(f"{samples[len(samples) // 2]:.1f} {len(commands)}")


if __name__ == "__main__":
    main()
