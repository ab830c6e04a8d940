"""Who may use each key (modules/data/key_users.py): named from the configuration."""
from __future__ import annotations

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
