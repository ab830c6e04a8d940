"""The scale fixture: prod with N models, mixed serving kinds. N = 30 synthesizes and passes the gate.

The expensive test synthesizes and gates one environment once (parallel synth, parallel gate, no
reports): about 15 s on two cores."""
from __future__ import annotations

from collections import Counter

from modules.config import load_all
from modules.synth import synthesize
from policies.gate import EXIT_PASS, run_gate
from tests.bench.scale import scaled_env, write_scaled


def test_fixture_has_n_unique_models_of_every_kind(tmp_path):
    (config,) = load_all((), write_scaled(30, tmp_path / "envs"))
    models = config.platform.models
    assert config.name == "prod" and len(models) == 30
    assert len({m.name for m in models}) == 30
    assert Counter(m.serving for m in models) == {"sagemaker": 8, "sagemaker-serverless": 8, "lambda": 7, "ec2": 7}
    aliases = [a for m in models if m.serving == "ec2" for a in m.settings.cloudfront.aliases]
    assert len(aliases) == len(set(aliases)) == 7  # each fleet answers on its own host name
    assert {m.serving for m in load_all((), write_scaled(3, tmp_path / "three"))[0].platform.models} == {
        "sagemaker", "sagemaker-serverless", "lambda"}
    assert scaled_env(30)["access"] == scaled_env(3)["access"]  # only the models differ


def test_thirty_models_synthesize_and_pass_the_gate(tmp_path):
    no_exceptions = tmp_path / "exceptions.yaml"
    no_exceptions.write_text("exceptions: []\n")
    envs = write_scaled(30, tmp_path / "envs")
    configs = load_all((), envs)
    out = tmp_path / "cdktf.out"
    assert synthesize(configs, out) == [f"prod-{p}" for p in ("access", "bootstrap", "data", "governance",
                                                                "platform")]
    result = run_gate(out, environments_dir=envs, exceptions_file=no_exceptions)
    assert result.errors == []
    assert result.exit_code == EXIT_PASS, [f"{f.check_id} {f.stack}/{f.address}" for f in result.failures()]
    assert sum(result.stacks.values()) > 1000
    endpoints = {f.address for f in result.findings if f.address.startswith("aws_sagemaker_endpoint.")}
    assert len(endpoints) == 16  # every SageMaker model (real-time and serverless) was judged
