"""Who may use each key (modules/data/key_users.py): named from the configuration."""
from __future__ import annotations

import json

from modules.config import load_env
from modules.data.key_users import key_users
from modules.naming import Naming


def test_key_users_follow_the_configuration(env):
    """The users come from the configuration: personas that are enabled, the models' execution roles."""
    config = load_env(env)
    n = Naming.of(config)
    inference = key_users(config, "inference")
    for model in config.platform.models:
        assert (n.role_arn(f"{model.name}-exec") in inference.roles) is (model.serving != "ec2")
        assert n.role_arn(f"{model.name}-exec") in key_users(config, "model").roles
    assert n.role_arn("data-scientist") in key_users(config, "training").roles
    assert n.role_arn("data-scientist") not in inference.roles + key_users(config, "audit").roles
    assert (n.role_arn("s3-replication") in inference.roles) is config.data.replication.enabled


def test_the_monitoring_role_uses_the_inference_key_and_the_model_key_only_for_baselines(env):
    from modules.monitoring import MONITOR_ROLE, baseline_prefix, monitored_models
    config = load_env(env)
    monitor = Naming.of(config).role_arn(MONITOR_ROLE)
    models = monitored_models(config)
    assert models, "every shipped environment monitors its real-time model"
    assert monitor in key_users(config, "inference").roles
    assert (monitor in key_users(config, "model").roles) is any(baseline_prefix(m) for m in models)
    assert monitor not in key_users(config, "training").roles + key_users(config, "audit").roles
    unmonitored = config.model_copy(update={"platform": config.platform.model_copy(update={
        "models": [m for m in config.platform.models if m.serving != "sagemaker"]})})
    assert monitor not in key_users(unmonitored, "inference").roles


def test_existing_service_linked_roles_are_looked_up_before_the_keys(tmp_path, synthesized):
    """`data.service_linked_roles: existing`: the account already has the roles (creating them again
    fails), so the data stack looks them up (a missing role stops the plan) and the keys wait for it."""
    from cdktf import App

    from modules.config import EnvConfig
    from modules.data.settings import ServiceLinkedRoleSettings
    from modules.data.stack import DataStack

    config: EnvConfig = load_env("dev")
    existing = ServiceLinkedRoleSettings(autoscaling="existing", macie="existing")
    config = config.model_copy(update={"data": config.data.model_copy(update={"service_linked_roles": existing})})
    app = App(outdir=str(tmp_path), stack_traces=False)
    DataStack(app, config)
    app.synth()
    stack = json.loads((tmp_path / "stacks" / "dev-data" / "cdk.tf.json").read_text())
    assert "aws_iam_service_linked_role" not in stack["resource"]
    lookups = {conf["name"]: f"data.aws_iam_role.{name}" for name, conf in stack["data"]["aws_iam_role"].items()}
    assert set(lookups) == {"AWSServiceRoleForAutoScaling", "AWSServiceRoleForAmazonMacie"}
    aliases = {a["target_key_id"].split(".")[1]: a["name"] for a in stack["resource"]["aws_kms_alias"].values()}
    for name, key in stack["resource"]["aws_kms_key"].items():
        expected = {"alias/aegis-dev-model": ["AWSServiceRoleForAutoScaling"],
                    "alias/aegis-dev-training": ["AWSServiceRoleForAmazonMacie"],
                    "alias/aegis-dev-inference": ["AWSServiceRoleForAmazonMacie"]}.get(aliases[name], [])
        assert key.get("depends_on", []) == [lookups[role] for role in expected], aliases[name]


def test_the_inference_key_names_the_ml_engineer_only_where_it_deploys_by_hand(env):
    """Its endpoint configs need grants on the inference key in dev; in staging and prod it deploys nothing,
    so the key policy does not name it (a key policy that names a role allows it whatever its own policy)."""
    config = load_env(env)
    ml = Naming.of(config).role_arn("ml-engineer")
    assert (ml in key_users(config, "inference").roles) is (config.tier == "dev")
    assert ml in key_users(config, "model").roles and ml in key_users(config, "training").roles
