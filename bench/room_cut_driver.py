"""Driver of bench/room-cut.sh (runs inside a private network namespace)."""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

BIN = os.environ["PREAU_BIN"]
RUNS = int(os.environ.get("RUNS", "41"))
ROOMS = int(os.environ.get("ROOMS", "200"))

def config(port):
    out = ['[establishment]\nuai = "0999999X"\nname = "Bench"\n',
           '[modules]\nenabled = ["firewall"]\n',
           '[firewall]\npreset = "3-zones"\n',
           '[[firewall.zones]]\nname = "teaching"\nsubnets = ["10.1.0.0/16"]\n',
           '[[firewall.zones]]\nname = "admin"\nsubnets = ["10.2.0.0/16"]\n',
           '[[firewall.port_forwards]]\nprotocol = "tcp"\nport = %d\nto = "10.2.0.10"\n' % port]
    for r in range(ROOMS):
        # Every other /28: rooms that are not neighbours stay one range each.
        out.append('[[proxy.sources]]\nname = "salle-%d"\naddresses = ["10.1.%d.%d/28"]\n'
                   % (r, r // 8, (r % 8) * 32))
    return "\n".join(out)

def run(root, *args, env):
    t = time.perf_counter()
    p = subprocess.run([BIN, "--root", root, *args], capture_output=True, env=env)
    dt = (time.perf_counter() - t) * 1000
    if p.returncode not in (0, 3):
        sys.exit("failed: %s\n%s%s" % (" ".join(args), p.stdout.decode(), p.stderr.decode()))
    return dt

def stats(xs):
    xs = sorted(xs)
    return {"median_ms": round(statistics.median(xs), 1),
            "p99_ms": round(xs[min(len(xs) - 1, int(len(xs) * 0.99))], 1)}

def main():
    env = dict(os.environ, PREAU_FIREWALL_LIVE="1")
    root = tempfile.mkdtemp(prefix="preau-room-cut-")
    try:
        run(root, "init", env=env)
        conf = os.path.join(root, "etc/preau/preau.toml")
        with open(conf, "w") as f:
            f.write(config(8080))
        run(root, "apply", env=env)

        def switches(label):
            on, off = [], []
            run(root, "proxy", "exam", "salle-0", "--off", "--minutes", "55", env=env)  # warm-up
            run(root, "proxy", "exam", "salle-0", "--stop", env=env)
            for _ in range(RUNS):
                on.append(run(root, "proxy", "exam", "salle-0", "--off", "--minutes", "55", env=env))
                off.append(run(root, "proxy", "exam", "salle-0", "--stop", env=env))
            print(json.dumps({"case": label, "switch_on": stats(on), "end": stats(off)}))

        switches("no other room cut")
        for r in range(1, ROOMS):
            run(root, "proxy", "exam", "salle-%d" % r, "--off", "--minutes", "55", env=env)
        status = subprocess.run([BIN, "--root", root, "--json", "firewall", "status"],
                                capture_output=True, env=env, check=True)
        cut = len(json.loads(status.stdout)["room_cut"])
        switches("%d other rooms cut (%d ranges live)" % (ROOMS - 1, cut))
        applies = []
        for i in range(max(5, RUNS // 4)):
            with open(conf, "w") as f:
                f.write(config(9000 + i))
            applies.append(run(root, "apply", env=env))
        status = subprocess.run([BIN, "--root", root, "--json", "firewall", "status"],
                                capture_output=True, env=env, check=True)
        kept = len(json.loads(status.stdout)["room_cut"])
        print(json.dumps({"case": "apply of a new ruleset, %d rooms cut" % (ROOMS - 1),
                          "apply": stats(applies), "ranges_after": kept}))
    finally:
        shutil.rmtree(root, ignore_errors=True)

main()
