#!/usr/bin/env python3
"""Checks the files of deploy/ against what operators rely on.

Parses the Compose file, every Kubernetes manifest, the systemd units and the
Dockerfile, and checks: Kafka in KRaft mode with replication factor 3 and
min.insync.replicas=2; the events topic created with those settings and
unlimited retention (the topic scripts are run against stand-ins of the Kafka
tools, and what they would create is checked); probes or health checks on
every long-running container; no secret values written inline; and every
flag given to prongsai exists in the built binary's --help.

Needs PyYAML (Debian: python3-yaml) and PRONGSAI_BIN, PRONGSAI_SOURCE_DIR.
"""

import glob
import os
import re
import shlex
import subprocess
import tempfile
import unittest

import yaml

SOURCE = os.environ.get("PRONGSAI_SOURCE_DIR", ".")
BINARY = os.environ.get("PRONGSAI_BIN", "prongsai")
DEPLOY = os.path.join(SOURCE, "deploy")

# Names that mark a value as secret when it is written inline.
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|CREDENTIAL|"
                         r"API_?KEY|SASL_JAAS|SSL_KEY)", re.IGNORECASE)
# Secret material itself, wherever it appears.
SECRET_TEXT = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"PRIVATE\+KEY\+"),  # a Go note signer key
    re.compile(r"\bsasl\.password\s*=", re.IGNORECASE),
    re.compile(r"\bssl\.key\.password\s*=", re.IGNORECASE),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."),  # a JWT
]

_help_cache = {}


def flags_of(command):
    """The flags `prongsai COMMAND --help` lists."""
    if command not in _help_cache:
        result = subprocess.run([BINARY, command, "--help"],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise AssertionError(f"prongsai {command} --help failed: "
                                 f"{result.stderr}")
        _help_cache[command] = set(
            re.findall(r"^\s+--([a-z0-9-]+)", result.stdout, re.MULTILINE))
    return _help_cache[command]


def prongsai_flags(argv):
    """(command, {flag: value}) of a prongsai argv (after the binary)."""
    command = argv[0]
    flags = {}
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                value = argv[i + 1]
                i += 1
            flags[name] = value
        i += 1
    return command, flags


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def run_topic_script(script, env, dollar="$", described_partitions=None):
    """Runs a topic-creation script with stand-ins for kafka-topics.sh and
    kafka-configs.sh (--describe reports `described_partitions`, by default
    the partitions asked for); returns the argument lists they got."""
    with tempfile.TemporaryDirectory() as tmp:
        calls = os.path.join(tmp, "calls")
        for tool in ("kafka-topics.sh", "kafka-configs.sh"):
            stub = os.path.join(tmp, tool)
            with open(stub, "w", encoding="utf-8") as f:
                f.write("#!/bin/bash\n"
                        f'printf "%s\\0" {tool} "$@" >>{calls}\n'
                        f'printf "\\n" >>{calls}\n'
                        'if [[ " $* " == *" --describe "* ]]; then\n'
                        '  printf "Topic: %s\\tTopicId: x\\tPartitionCount: %s'
                        '\\tReplicationFactor: %s\\tConfigs: \\n" '
                        '"$STUB_TOPIC" "$STUB_PARTITIONS" "$STUB_RF"\n'
                        "fi\n")
            os.chmod(stub, 0o755)
        if dollar == "$$":
            script = script.replace("$$", "$")
        script = script.replace("bin=/opt/kafka/bin", f"bin={tmp}")
        full_env = dict(os.environ)
        full_env.update({k: str(v) for k, v in env.items()})
        full_env.update({"STUB_TOPIC": env["EVENTS_TOPIC"],
                         "STUB_PARTITIONS": str(described_partitions or
                                                env["EVENTS_PARTITIONS"]),
                         "STUB_RF": env["REPLICATION_FACTOR"]})
        subprocess.run(["/bin/bash", "-euo", "pipefail", "-c", script],
                       env=full_env, check=True, capture_output=True)
        with open(calls, encoding="utf-8") as f:
            return [line.strip("\0").split("\0")
                    for line in f.read().split("\n") if line.strip("\0")]


class TopicChecks:
    """Shared checks of what a topic script creates."""

    def check_topic_script(self, script, env, dollar):
        self.assertEqual(str(env["REPLICATION_FACTOR"]), "3")
        self.assertEqual(str(env["MIN_INSYNC_REPLICAS"]), "2")
        self.assertEqual(str(env["RETENTION_MS"]), "-1")
        env = dict(env)
        env["EVENTS_TOPIC"] = env.get("EVENTS_TOPIC") or "prongsai.events.v1"
        env["BOOTSTRAP"] = "kafka:9092"
        calls = run_topic_script(script, env, dollar)
        creates = [c for c in calls if "--create" in c]
        self.assertEqual(len(creates), 1, calls)
        create = creates[0]

        def after(flag):
            return create[create.index(flag) + 1]

        self.assertEqual(after("--replication-factor"), "3")
        self.assertEqual(after("--topic"), env["EVENTS_TOPIC"])
        configs = [create[i + 1] for i, a in enumerate(create) if a == "--config"]
        self.assertIn("min.insync.replicas=2", configs)
        self.assertIn("retention.ms=-1", configs)
        self.assertIn("retention.bytes=-1", configs)
        self.assertIn("cleanup.policy=delete", configs)
        self.assertIn("--if-not-exists", create)
        # An existing topic gets the same settings.
        alters = [c for c in calls if "--alter" in c]
        self.assertEqual(len(alters), 1, calls)
        added = alters[0][alters[0].index("--add-config") + 1].split(",")
        self.assertIn("min.insync.replicas=2", added)
        self.assertIn("retention.ms=-1", added)
        # An existing topic with another partition count fails the job.
        with self.assertRaises(subprocess.CalledProcessError):
            run_topic_script(script, env, dollar,
                             described_partitions=int(env["EVENTS_PARTITIONS"]) + 1)

    def check_no_inline_secrets(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for pattern in SECRET_TEXT:
            self.assertIsNone(pattern.search(text),
                              f"{path}: secret material inline ({pattern.pattern})")


def check_env_values(test, where, env):
    """Environment given inline must not carry secrets by name."""
    for name, value in env.items():
        if SECRET_NAME.search(name) and value not in (None, ""):
            test.fail(f"{where}: {name} is set inline; mount a file instead")


class ComposeTest(unittest.TestCase, TopicChecks):
    def setUp(self):
        self.path = os.path.join(DEPLOY, "compose", "compose.yaml")
        with open(self.path, encoding="utf-8") as f:
            self.compose = yaml.safe_load(f)
        self.services = self.compose["services"]

    def kafka_services(self):
        return {n: s for n, s in self.services.items()
                if str(s.get("image", "")).startswith("apache/kafka")
                and "KAFKA_NODE_ID" in s.get("environment", {})}

    def test_three_kraft_brokers_with_replication_three_and_min_isr_two(self):
        brokers = self.kafka_services()
        self.assertEqual(len(brokers), 3)
        ids = set()
        for name, service in brokers.items():
            env = service["environment"]
            ids.add(str(env["KAFKA_NODE_ID"]))
            self.assertIn("controller", env["KAFKA_PROCESS_ROLES"])
            self.assertEqual(len(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")), 3)
            self.assertNotIn("KAFKA_ZOOKEEPER_CONNECT", env)
            self.assertEqual(str(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]), "3")
            self.assertEqual(str(env["KAFKA_MIN_INSYNC_REPLICAS"]), "2")
            self.assertEqual(str(env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"]), "3")
            self.assertEqual(str(env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]), "2")
            self.assertEqual(str(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]), "3")
            self.assertEqual(str(env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"]), "false")
            self.assertEqual(str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]), "false")
            self.assertTrue(any(v.endswith(":/var/lib/kafka/data")
                                for v in service["volumes"]), name)
        self.assertEqual(ids, {"1", "2", "3"})

    def test_topic_job_creates_the_events_topic_as_required(self):
        job = self.services["kafka-init"]
        env = dict(job["environment"])
        env["EVENTS_TOPIC"] = "prongsai.events.v1"
        self.check_topic_script(job["command"][0], env, dollar="$$")
        # The Prongsai roles start only once the topic is there.
        for name, service in self.services.items():
            if service.get("command", [None])[0] == "serve":
                self.assertEqual(service["depends_on"]["kafka-init"]["condition"],
                                 "service_completed_successfully", name)

    def test_every_long_running_service_has_a_health_check(self):
        for name, service in self.services.items():
            if service.get("restart") == "no":
                continue
            self.assertIn("healthcheck", service, name)
            self.assertTrue(service["healthcheck"]["test"], name)

    def test_prongsai_flags_exist_and_roles_use_kafka(self):
        roles = set()
        for name, service in self.services.items():
            if not str(service.get("image", "")).startswith("${PRONGSAI_IMAGE"):
                continue
            command, flags = prongsai_flags(service["command"])
            for flag in flags:
                self.assertIn(flag, flags_of(command), f"{name}: --{flag}")
            health = service["healthcheck"]["test"]
            if "prongsai" in health:
                h_command, h_flags = prongsai_flags(health[health.index("prongsai") + 1:])
                self.assertEqual(h_command, "health")
                for flag in h_flags:
                    self.assertIn(flag, flags_of("health"), f"{name}: health --{flag}")
            if command == "serve":
                self.assertEqual(flags["log"], "kafka", name)
                self.assertEqual(len(flags["brokers"].split(",")), 3, name)
                self.assertIn("metrics-listen", flags, name)
                roles.update(flags["roles"].split(","))
        self.assertEqual(roles, {"ingest", "projector", "query"})

    def test_roles_use_tls_tokens_and_compose_secrets(self):
        declared = self.compose.get("secrets", {})
        for name, secret in declared.items():
            self.assertIn("file", secret, name)
            self.assertTrue(secret["file"].startswith("./secrets/"), name)
        for name, service in self.services.items():
            if not str(service.get("image", "")).startswith("${PRONGSAI_IMAGE"):
                continue
            command, flags = prongsai_flags(service["command"])
            if command == "serve":
                wanted = ("tls-cert", "tls-key", "tls-client-ca", "jwt-key")
                self.assertIn("jwt-issuer", flags, name)
                self.assertNotIn("insecure-dev", flags, name)
                health = service["healthcheck"]["test"]
                _, h_flags = prongsai_flags(health[health.index("prongsai") + 1:])
                for flag in ("tls-ca", "tls-cert", "tls-key"):
                    self.assertIn(flag, h_flags, f"{name}: health --{flag}")
            else:
                wanted = ("tls-ca", "tls-cert", "tls-key", "token-file")
            if command == "oss-bridge":
                # Its own listeners: TLS, mutual TLS and tokens, like serve.
                wanted += ("listen-tls-cert", "listen-tls-key",
                           "listen-tls-client-ca", "jwt-key")
                self.assertIn("jwt-issuer", flags, name)
                self.assertNotIn("insecure-dev", flags, name)
                health = service["healthcheck"]["test"]
                _, h_flags = prongsai_flags(health[health.index("prongsai") + 1:])
                for flag in ("tls-ca", "tls-cert", "tls-key"):
                    self.assertIn(flag, h_flags, f"{name}: health --{flag}")
            for flag in wanted:
                self.assertIn(flag, flags, f"{name}: --{flag}")
                path = flags[flag]
                self.assertTrue(path.startswith("/run/secrets/"), f"{name}: --{flag}")
                secret = path[len("/run/secrets/"):]
                self.assertIn(secret, service.get("secrets", []), f"{name}: {secret}")
                self.assertIn(secret, declared, f"{name}: {secret}")

    def test_secrets_are_mounted_files_not_values(self):
        views = self.services["projector-query"]
        _, flags = prongsai_flags(views["command"])
        key = flags["signing-key"]
        mounts = [v for v in views["volumes"] if v.split(":")[1] == key]
        self.assertEqual(len(mounts), 1, "the signing key is a mounted file")
        self.assertTrue(mounts[0].endswith(":ro"))
        for name, service in self.services.items():
            env = service.get("environment", {})
            if isinstance(env, list):
                env = dict(e.split("=", 1) for e in env)
            check_env_values(self, name, env)
        for path in [self.path] + glob.glob(os.path.join(DEPLOY, "compose", "*env*")):
            self.check_no_inline_secrets(path)
            if "env" in os.path.basename(path):
                with open(path, encoding="utf-8") as f:
                    pairs = dict(line.strip().split("=", 1) for line in f
                                 if "=" in line and not line.startswith("#"))
                check_env_values(self, path, pairs)


def containers_of(doc):
    spec = doc["spec"]["template"]["spec"]
    return spec.get("containers", []), spec.get("initContainers", [])


def env_dict(container):
    out = {}
    for e in container.get("env", []):
        out[e["name"]] = e.get("value", e.get("valueFrom"))
    return out


def expand(value, env, configmaps):
    """$(VAR) references of a Kubernetes argument, resolved."""
    def one(match):
        source = env.get(match.group(1))
        if isinstance(source, dict) and "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            return str(configmaps[ref["name"]][ref["key"]])
        if isinstance(source, str):
            return source
        return match.group(0)
    return re.sub(r"\$\(([A-Z_]+)\)", one, value)


class KubernetesTest(unittest.TestCase, TopicChecks):
    def setUp(self):
        self.files = sorted(glob.glob(os.path.join(DEPLOY, "k8s", "*.yaml")))
        self.docs = []
        for path in self.files:
            for doc in load_all(path):
                doc["_file"] = os.path.basename(path)
                self.docs.append(doc)
        self.configmaps = {d["metadata"]["name"]: d["data"]
                           for d in self.docs if d["kind"] == "ConfigMap"}

    def workloads(self):
        return [d for d in self.docs if d["kind"] in ("StatefulSet", "Deployment")]

    def named(self, kind, name):
        found = [d for d in self.docs
                 if d["kind"] == kind and d["metadata"]["name"] == name]
        self.assertEqual(len(found), 1, f"{kind} {name}")
        return found[0]

    def test_kustomization_lists_every_manifest(self):
        kustomization = [d for d in self.docs if d["kind"] == "Kustomization"]
        self.assertEqual(len(kustomization), 1)
        listed = set(kustomization[0]["resources"])
        files = {os.path.basename(p) for p in self.files} - {"kustomization.yaml"}
        self.assertEqual(listed, files)

    def test_every_object_is_in_the_namespace(self):
        for doc in self.docs:
            if doc["kind"] in ("Namespace", "Kustomization"):
                continue
            self.assertEqual(doc["metadata"].get("namespace"), "prongsai",
                             f"{doc['_file']}: {doc['kind']} {doc['metadata']['name']}")

    def test_every_container_has_probes_and_resources(self):
        for doc in self.workloads():
            containers, inits = containers_of(doc)
            for c in containers:
                where = f"{doc['metadata']['name']}/{c['name']}"
                self.assertIn("readinessProbe", c, where)
                self.assertIn("livenessProbe", c, where)
            for c in containers + inits:
                where = f"{doc['metadata']['name']}/{c['name']}"
                self.assertIn("requests", c.get("resources", {}), where)
                self.assertIn("memory", c["resources"].get("limits", {}), where)

    def test_serve_pods_use_tls_and_tls_health_probes(self):
        # The kubelet's gRPC probes do not speak TLS: `prongsai health` does.
        for doc in self.workloads():
            for c in containers_of(doc)[0]:
                if c["image"].startswith("prongsai") and c["args"][0] == "serve":
                    _, flags = prongsai_flags(c["args"])
                    for flag in ("tls-cert", "tls-key", "tls-client-ca",
                                 "jwt-issuer", "jwt-key"):
                        self.assertIn(flag, flags, f"{c['name']}: --{flag}")
                    self.assertNotIn("insecure-dev", flags, c["name"])
                    self.check_mounted_from_secrets(doc, c, [
                        flags["tls-cert"], flags["tls-key"],
                        flags["tls-client-ca"], flags["jwt-key"]])
                    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                        command = c[probe]["exec"]["command"]
                        self.assertEqual(command[:2], ["prongsai", "health"],
                                         f"{c['name']} {probe}")
                        _, h_flags = prongsai_flags(command[1:])
                        for flag in ("tls-ca", "tls-cert", "tls-key"):
                            self.assertIn(flag, h_flags, f"{c['name']} {probe}")
                        self.assertEqual(h_flags["server"], "127.0.0.1:50051")
                if c["image"].startswith("prongsai") and c["args"][0] == "oss-bridge":
                    _, flags = prongsai_flags(c["args"])
                    for flag in ("tls-ca", "tls-cert", "tls-key", "token-file",
                                 "listen-tls-cert", "listen-tls-key",
                                 "listen-tls-client-ca", "jwt-issuer",
                                 "jwt-key"):
                        self.assertIn(flag, flags, f"{c['name']}: --{flag}")
                    self.assertNotIn("insecure-dev", flags, c["name"])
                    self.check_mounted_from_secrets(doc, c, [
                        flags["tls-ca"], flags["tls-cert"], flags["tls-key"],
                        flags["token-file"], flags["listen-tls-cert"],
                        flags["listen-tls-key"], flags["listen-tls-client-ca"],
                        flags["jwt-key"]])
                    for probe in ("readinessProbe", "livenessProbe"):
                        command = c[probe]["exec"]["command"]
                        self.assertEqual(command[:2], ["prongsai", "health"],
                                         f"{c['name']} {probe}")
                        _, h_flags = prongsai_flags(command[1:])
                        for flag in ("tls-ca", "tls-cert", "tls-key"):
                            self.assertIn(flag, h_flags, f"{c['name']} {probe}")

    def check_mounted_from_secrets(self, doc, container, paths):
        volumes = {v["name"]: v for v in doc["spec"]["template"]["spec"]["volumes"]}
        for path in paths:
            mounts = [m for m in container["volumeMounts"]
                      if path.startswith(m["mountPath"].rstrip("/") + "/")]
            self.assertTrue(mounts, f"{container['name']}: {path} is not mounted")
            volume = volumes[mounts[0]["name"]]
            self.assertIn("secret", volume, f"{container['name']}: {path}")

    def test_prongsai_flags_exist(self):
        seen = set()
        for doc in self.workloads():
            for c in containers_of(doc)[0]:
                if not c["image"].startswith("prongsai"):
                    continue
                env = env_dict(c)
                args = [expand(a, env, self.configmaps) for a in c["args"]]
                command, flags = prongsai_flags(args)
                seen.add(command)
                for flag in flags:
                    self.assertIn(flag, flags_of(command), f"{c['name']}: --{flag}")
        self.assertEqual(seen, {"serve", "oss-bridge"})

    def test_ingest_owns_the_shard_of_its_ordinal(self):
        ingest = self.named("StatefulSet", "prongsai-ingest")
        self.assertEqual(ingest["spec"]["podManagementPolicy"], "OrderedReady")
        container = containers_of(ingest)[0][0]
        _, flags = prongsai_flags(container["args"])
        self.assertEqual(flags["roles"], "ingest")
        self.assertEqual(flags["shard"], "$(POD_INDEX)")
        self.assertEqual(env_dict(container)["POD_INDEX"]["fieldRef"]["fieldPath"],
                         "metadata.labels['apps.kubernetes.io/pod-index']")
        self.assertEqual(int(flags["shards"]), ingest["spec"]["replicas"])
        self.assertTrue(ingest["spec"]["volumeClaimTemplates"])

    def test_views_are_a_statefulset_with_volumes_and_a_budget(self):
        views = self.named("StatefulSet", "prongsai-views")
        _, flags = prongsai_flags(containers_of(views)[0][0]["args"])
        self.assertEqual(set(flags["roles"].split(",")), {"projector", "query"})
        self.assertTrue(views["spec"]["volumeClaimTemplates"])
        budgets = [d for d in self.docs if d["kind"] == "PodDisruptionBudget"]
        covered = {tuple(sorted(b["spec"]["selector"]["matchLabels"].items()))
                   for b in budgets}
        for workload in ("prongsai-views", "kafka"):
            labels = self.named("StatefulSet", workload)["spec"]["selector"]["matchLabels"]
            self.assertIn(tuple(sorted(labels.items())), covered, workload)

    def test_kafka_is_kraft_with_replication_three_and_min_isr_two(self):
        kafka = self.named("StatefulSet", "kafka")
        self.assertEqual(kafka["spec"]["replicas"], 3)
        env = env_dict(containers_of(kafka)[0][0])
        self.assertIn("controller", env["KAFKA_PROCESS_ROLES"])
        self.assertEqual(len(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")), 3)
        self.assertEqual(env["KAFKA_DEFAULT_REPLICATION_FACTOR"], "3")
        self.assertEqual(env["KAFKA_MIN_INSYNC_REPLICAS"], "2")
        self.assertEqual(env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"], "3")
        self.assertEqual(env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"], "2")
        self.assertEqual(env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"], "false")
        self.assertTrue(kafka["spec"]["volumeClaimTemplates"])

    def test_topic_job_creates_the_events_topic_as_required(self):
        job = self.named("Job", "kafka-topics")
        container = job["spec"]["template"]["spec"]["containers"][0]
        env = {k: v for k, v in env_dict(container).items() if isinstance(v, str)}
        env["EVENTS_TOPIC"] = self.configmaps["prongsai"]["TOPIC"]
        self.check_topic_script(container["args"][0], env, dollar="$")

    def test_no_secrets_inline(self):
        for doc in self.docs:
            where = f"{doc['_file']}: {doc['kind']} {doc.get('metadata', {}).get('name')}"
            self.assertNotEqual(doc["kind"], "Secret", f"{where}: create it apart")
            if doc["kind"] == "ConfigMap":
                check_env_values(self, where, doc["data"])
        for doc in self.workloads() + [d for d in self.docs if d["kind"] == "Job"]:
            for c in sum(containers_of(doc), []):
                check_env_values(self, c["name"], {
                    k: v for k, v in env_dict(c).items() if isinstance(v, str)})
        for path in self.files:
            self.check_no_inline_secrets(path)
        # The signing key reaches the server from a Secret volume.
        views = self.named("StatefulSet", "prongsai-views")
        volumes = views["spec"]["template"]["spec"]["volumes"]
        self.assertTrue(any(v.get("secret", {}).get("secretName") ==
                            "prongsai-checkpoint-key" for v in volumes))


def unit_lines(path):
    """Key/value lines of a systemd unit, continuations joined."""
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


class SystemdAndImageTest(unittest.TestCase, TopicChecks):
    def test_service_flags_exist_and_key_is_a_file(self):
        unit = unit_lines(os.path.join(DEPLOY, "systemd", "prongsai.service"))
        argv = shlex.split(unit["ExecStart"][0])
        self.assertTrue(argv[0].endswith("/prongsai"))
        command, flags = prongsai_flags(argv[1:])
        self.assertEqual(command, "serve")
        for flag in flags:
            self.assertIn(flag, flags_of("serve"), f"--{flag}")
        self.assertTrue(flags["signing-key"].startswith("/etc/prongsai/keys/"))
        self.assertIn("metrics-listen", flags)
        self.assertEqual(unit["StateDirectory"], ["prongsai"])

    def test_backup_timer_runs_the_backup_script(self):
        service = unit_lines(os.path.join(DEPLOY, "systemd", "prongsai-backup.service"))
        script = shlex.split(service["ExecStart"][0])[0]
        self.assertEqual(os.path.basename(script), "prongsai-backup")
        self.assertTrue(os.access(os.path.join(DEPLOY, "systemd", "prongsai-backup"),
                                  os.X_OK))
        self.assertEqual(service["ExecStopPost"],
                         ["/bin/systemctl start prongsai.service"])
        timer = unit_lines(os.path.join(DEPLOY, "systemd", "prongsai-backup.timer"))
        self.assertTrue(timer["OnCalendar"])
        self.assertEqual(timer["Persistent"], ["true"])

    def test_backup_script_copies_log_and_checkpoints(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            for part in ("log", "checkpoints", "views", "keys"):
                os.makedirs(os.path.join(data, part))
                with open(os.path.join(data, part, "x"), "w") as f:
                    f.write(part)
            out = os.path.join(tmp, "backups")
            subprocess.run([os.path.join(DEPLOY, "systemd", "prongsai-backup"),
                            data, out, "1"], check=True, capture_output=True)
            backups = glob.glob(os.path.join(out, "prongsai-*.tar.gz"))
            self.assertEqual(len(backups), 1)
            listing = subprocess.run(["tar", "-tzf", backups[0]], check=True,
                                     capture_output=True, text=True).stdout
            self.assertIn("log/x", listing)
            self.assertIn("checkpoints/x", listing)
            self.assertNotIn("views/", listing)
            self.assertNotIn("keys/", listing)
            subprocess.run(["sha256sum", "-c", os.path.basename(backups[0]) + ".sha256"],
                           cwd=out, check=True, capture_output=True)

    def test_journald_bounds_the_logs(self):
        conf = unit_lines(os.path.join(DEPLOY, "systemd", "journald-prongsai.conf"))
        for key in ("SystemMaxUse", "MaxRetentionSec", "Storage"):
            self.assertIn(key, conf)

    def test_dockerfile_command_flags_exist(self):
        with open(os.path.join(DEPLOY, "Dockerfile"), encoding="utf-8") as f:
            text = f.read().replace("\\\n", " ")
        cmd = re.search(r"^CMD (\[.*\])", text, re.MULTILINE).group(1)
        command, flags = prongsai_flags(yaml.safe_load(cmd))
        self.assertEqual(command, "serve")
        for flag in flags:
            self.assertIn(flag, flags_of("serve"), f"--{flag}")
        self.assertRegex(text, r"EXPOSE .*\b9464\b")
        self.assertTrue(re.search(r"^USER 10001", text, re.MULTILINE))
        self.check_no_inline_secrets(os.path.join(DEPLOY, "Dockerfile"))


if __name__ == "__main__":
    unittest.main()
