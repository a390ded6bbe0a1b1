"""Driver of bench/firewall.sh (runs inside a private network namespace)."""
import os, shutil, statistics, subprocess, sys, tempfile, time

BIN = os.environ["PREAU_BIN"]
RUNS = int(os.environ.get("RUNS", "21"))
ADDRESSES, RULES, SETS = 1000, 200, 10

def config(variant):
    out = ['[establishment]\nuai = "0999999X"\nname = "Bench"\n',
           '[modules]\nenabled = ["firewall"]\n',
           '[firewall]\npreset = "4-zones"\n',
           '[[firewall.zones]]\nname = "teaching"\nsubnets = ["10.1.0.0/16"]\n',
           '[[firewall.zones]]\nname = "admin"\nsubnets = ["10.2.0.0/16"]\n']
    per = ADDRESSES // SETS
    for s in range(SETS):
        addrs = ", ".join('"10.1.%d.%d"' % (s * 4 + i // 250, i % 250 + 1) for i in range(per))
        out.append('[[firewall.sets]]\nname = "hosts%d"\naddresses = [%s]\n' % (s, addrs))
    for r in range(RULES):
        out.append('[[firewall.rules]]\ncomment = "rule %d %s"\nfrom_zone = "teaching"\nfrom = ["@hosts%d"]\n'
                   'to_zone = "admin"\nto = ["10.2.%d.0/24"]\nprotocol = "tcp"\nports = ["%d"]\n'
                   % (r, variant, r % SETS, r % 250, 1000 + r))
    return "\n".join(out)

def naive():
    """The same policy without sets: one rule per source address."""
    lines = ["table inet naive", "delete table inet naive", "table inet naive {",
             "chain forward { type filter hook forward priority filter; policy drop;"]
    per = ADDRESSES // SETS
    for r in range(RULES):
        s = r % SETS
        for i in range(per):
            lines.append('iifname "eth1" oifname "eth2" ip saddr 10.1.%d.%d ip daddr 10.2.%d.0/24 tcp dport %d counter accept'
                         % (s * 4 + i // 250, i % 250 + 1, r % 250, 1000 + r))
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"

def timed(argv, **kw):
    t = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, **kw)
    dt = (time.perf_counter() - t) * 1000
    if p.returncode not in (0, 3):
        sys.exit("failed: %s\n%s%s" % (" ".join(argv), p.stdout.decode(), p.stderr.decode()))
    return dt

def median(f, runs=RUNS):
    f()  # warm-up
    return statistics.median(f() for _ in range(runs))

def main():
    env = dict(os.environ, PREAU_FIREWALL_LIVE="1")
    root = tempfile.mkdtemp(prefix="preau-bench-fw-")
    conf = os.path.join(root, "etc/preau/preau.toml")
    pre = [BIN, "--root", root]
    subprocess.run(pre + ["init"], check=True, capture_output=True, env=env)
    texts = [config("a"), config("b")]
    open(conf, "w").write(texts[0])
    subprocess.run(pre + ["apply"], check=True, capture_output=True, env=env)
    rendered = os.path.join(root, "var/lib/preau/firewall/ruleset.nft")
    ruleset = open(rendered).read()
    n_rules = sum(1 for l in ruleset.splitlines() if " comment \"" in l and l.startswith("\t\t") and "counter" in l)
    state = {"i": 0}

    def apply_once():
        state["i"] += 1
        open(conf, "w").write(texts[state["i"] % 2])
        return timed(pre + ["apply", "firewall"], env=env)

    def rollback_once():
        return timed(pre + ["rollback"], env=env)

    naive_file = os.path.join(root, "naive.nft")
    open(naive_file, "w").write(naive())
    subprocess.run(["nft", "-f", naive_file], check=True)
    figures = [
        ("render (`preau firewall show`, whole process)", median(lambda: timed(pre + ["firewall", "show"], env=env))),
        ("plan (`preau plan firewall`, nothing to do)", median(lambda: timed(pre + ["plan", "firewall"], env=env))),
        ("apply (`preau apply firewall`, new ruleset loaded)", median(apply_once)),
        ("nft -f of the rendered file alone", median(lambda: timed(["nft", "-f", rendered]))),
        ("rollback (`preau rollback`)", median(rollback_once)),
        ("peer: same policy as %d rules without sets, nft -f" % (RULES * ADDRESSES // SETS),
         median(lambda: timed(["nft", "-f", naive_file]), runs=max(3, RUNS // 4))),
    ]
    print("firewall benchmark: %d addresses in %d sets, %d explicit rules (%d rules rendered), %d runs, medians"
          % (ADDRESSES, SETS, RULES, n_rules, RUNS))
    apply_ms = figures[2][1]
    for name, ms in figures:
        print("  %-62s %8.1f ms" % (name, ms))
    print("  apply / goal (200 ms): %.2f; peer / nft -f with sets: %.1fx"
          % (apply_ms / 200, figures[5][1] / figures[3][1]))
    shutil.rmtree(root, ignore_errors=True)

main()
