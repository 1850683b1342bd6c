#!/usr/bin/env python3
"""Self cost of a callgrind dump by object (DSO) and by function, per request.
  cg_summary.py FILE [REQUESTS] [TOP]"""
import collections, re, sys

path = sys.argv[1]
nreq = int(sys.argv[2]) if len(sys.argv) > 2 else 1
top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
names = {"ob": {}, "fn": {}}
ob = fn = "?"
by_ob, by_fn = collections.Counter(), collections.Counter()
skip = False


def name(kind, v):
    m = re.match(r"\((\d+)\)(?: (.*))?", v)
    if not m:
        return v
    if m.group(2) is not None:
        names[kind][m.group(1)] = m.group(2)
    return names[kind].get(m.group(1), v)


for line in open(path):
    line = line.rstrip("\n")
    if not line or line[0] == "#":
        continue
    if line[0].isdigit() or line[0] in "+-*":
        if skip:
            skip = False
            continue
        parts = line.split()
        if len(parts) >= 2:
            c = int(parts[1])
            by_ob[ob] += c
            by_fn[(ob, fn)] += c
        continue
    k, _, v = line.partition("=")
    if k == "ob":
        ob = name("ob", v)
    elif k == "fn":
        fn = name("fn", v)
    elif k in ("cob",):
        name("ob", v)
    elif k in ("cfn",):
        name("fn", v)
    elif k == "calls":
        skip = True
total = sum(by_ob.values())
print(f"total {total / nreq:,.0f} instructions per request")
for o, c in by_ob.most_common():
    print(f"  {c / nreq:>12,.0f} {100 * c / total:5.1f}%  {o.split('/')[-1]}")
print()
for (o, f), c in by_fn.most_common(top):
    print(f"  {c / nreq:>12,.0f} {100 * c / total:5.1f}%  {f}  [{o.split('/')[-1]}]")
