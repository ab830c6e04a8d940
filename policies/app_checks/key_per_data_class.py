"""AEGIS_KEY_PER_DATA_CLASS: each data class has its own KMS key, and every key lookup resolves to
the right class of the same environment.

Key separation is what keeps a data scientist who may decrypt training data from decrypting
inference data or the audit trail. In the `<env>-data` stack each class (training, model,
inference, audit) needs exactly one alias `alias/<project>-<env>-<class>` targeting a key no other
class uses (same for the `-dr` aliases when present). Every `data "aws_kms_key"` lookup in any
stack must name an alias of this environment (its account, its regions, its prefix), and a lookup
with construct id `kms-<class>` (`kms-<class>-dr`) must be that class's (DR) alias: the checkov
checks map `data.aws_kms_key.kms-<class>[-dr]` to a class by that id.
"""
from __future__ import annotations

from modules.naming import KEY_CLASSES
from policies.app_checks.base import app_check, fail, ok
from policies.app_checks.lookups import alias_info
from policies.app_checks.view import AppView, ref


@app_check("AEGIS_KEY_PER_DATA_CLASS", "Each data class has its own KMS key and key lookups resolve to the right class")
def key_per_data_class(app: AppView):
    for env in app.envs:
        naming = env.naming
        data = env.stack("data")
        if data is not None:
            aliases = data.resources("aws_kms_alias")
            for suffix, region in (("", naming.region), ("-dr", naming.dr_region)):
                targets: dict[str, str] = {}  # key resource → class
                for key_class in KEY_CLASSES:
                    wanted = naming.kms_alias(key_class, region)
                    found = [(n, c) for n, c in sorted(aliases.items()) if c.get("name") == wanted]
                    if not found:
                        if not suffix:
                            yield fail(data.name, "", f"no KMS alias {wanted}: the {key_class} data class has no key")
                        continue
                    name, conf = found[0]
                    address = f"aws_kms_alias.{name}"
                    target = ref(conf.get("target_key_id"))
                    if len(found) > 1:
                        yield fail(data.name, address, f"alias {wanted} is defined {len(found)} times")
                    elif target is None or target[0] != "aws_kms_key" or data.lookup("aws_kms_key", target[1]) is None:
                        yield fail(data.name, address, f"alias {wanted} does not target a key of this stack")
                    elif target[1] in targets:
                        yield fail(data.name, address, f"alias {wanted} targets the same key as the "
                                                       f"{targets[target[1]]} class: classes must not share keys")
                    else:
                        targets[target[1]] = key_class
                        yield ok(data.name, address, f"{key_class}{suffix} data class has its own key")
        for stack in env.stacks.values():
            for name, conf in sorted(stack.data("aws_kms_key").items()):
                address = f"data.aws_kms_key.{name}"
                key_id = conf.get("key_id")
                info = alias_info(env, key_id)
                if info is None:
                    yield fail(stack.name, address, f"key lookup {key_id!r} is not an alias of environment {env.name}")
                    continue
                found, dr = info
                label = found + ("-dr" if dr else "")
                if name.startswith("kms-") and name[4:] != label:
                    yield fail(stack.name, address, f"lookup id {name} names {name[4:]} but resolves to the "
                                                    f"{label} alias")
                else:
                    yield ok(stack.name, address, f"lookup resolves to the {label} key of {env.name}")
