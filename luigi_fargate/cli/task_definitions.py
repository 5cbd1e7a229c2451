"""``luigi-fargate task-definitions render|register|policy``: the ECS side of a release."""

from __future__ import annotations

import argparse
import json
import sys

from luigi_fargate.errors import UserError


def _release_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image", required=True, help="the image to run, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/pipelines:2026-11-24")
    p.add_argument("--dags", required=True, metavar="DIR", help="the folder the pipelines were exported into")
    p.add_argument("--release", metavar="NAME", help="release name for tags and $LUIGI_FARGATE_RELEASE (default: the image tag)")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "task-definitions",
        parents=[common],
        allow_abbrev=False,
        help="render or register the ECS task definition for an image",
        description=(
            "One task definition per image: every run sets its own CPU, memory and storage as RunTask overrides. "
            "Settings come from the [luigi_fargate] section of luigi.cfg (docs/configuration.md)."
        ),
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    render = actions.add_parser(
        "render", parents=[common], allow_abbrev=False,
        help="print the task definition as JSON for `aws ecs register-task-definition --cli-input-json`",
    )  # fmt: skip
    _release_arguments(render)
    render.set_defaults(handler=handle_render)
    reg = actions.add_parser("register", parents=[common], allow_abbrev=False, help="register it with ECS and print its ARN")
    _release_arguments(reg)
    reg.set_defaults(handler=handle_register)
    policy = actions.add_parser(
        "policy", parents=[common], allow_abbrev=False,
        help="print the least-privilege IAM policy of one principal, filled in from the configuration",
    )  # fmt: skip
    policy.add_argument("role", choices=("worker", "task", "execution", "deployer"), help="whose policy (docs/security.md)")
    policy.set_defaults(handler=handle_policy)


def _prepare(args: argparse.Namespace):
    from luigi_fargate.release import taskdef
    from luigi_fargate.release.settings import load_release_settings
    from luigi_fargate.release.specs import load_dir

    settings = load_release_settings()
    specs = load_dir(args.dags)
    fargate = taskdef.check_specs_agree(settings, specs)
    if not fargate:
        print(f"luigi-fargate: warning: no spec in {args.dags} uses the fargate runner", file=sys.stderr)
    return settings, fargate, taskdef.render(settings, args.image, args.release)


def handle_render(args: argparse.Namespace) -> int:
    from luigi_fargate.release import taskdef

    _, _, task_definition = _prepare(args)
    sys.stdout.write(taskdef.to_cli_json(task_definition))
    return 0


def handle_register(args: argparse.Namespace) -> int:
    from luigi_fargate.release import taskdef

    settings, fargate, task_definition = _prepare(args)
    arn = taskdef.register(task_definition, taskdef.ecs_client(settings.region))
    print(arn)
    print(f"luigi-fargate: {len(fargate)} pipelines can use it; runs size themselves: {taskdef.size_summary(fargate)}", file=sys.stderr)
    return 0


def handle_policy(args: argparse.Namespace) -> int:
    from luigi_fargate import config
    from luigi_fargate.release import iam
    from luigi_fargate.release.settings import release_settings

    configuration = config.load()
    settings = release_settings(configuration)
    cluster = configuration.get("cluster")
    lock_url = config.lock_url_from(None)
    lock_table = lock_url.split("://", 1)[1].split("?", 1)[0] if lock_url.startswith("dynamodb://") else None
    values = {
        "region": settings.region,
        "account": settings.account,
        "cluster": cluster or "CLUSTER",
        "task_family": settings.task_family,
        "log_group": settings.log_group,
        "lock_table": lock_table or "LOCK_TABLE",
        "execution_role_arn": settings.execution_role_arn,
        "task_role_arn": settings.task_role_arn,
    }
    grants = iam.ROLES[args.role]
    if args.role == "execution":
        grants = (*grants, *iam.secret_grants(arn for _, arn in settings.secrets))
    if args.role == "worker" and not cluster:
        raise UserError("[luigi_fargate] cluster is not set: expected the ECS cluster name; add it to luigi.cfg")
    document = iam.policy_document(grants, values, include_optional=lock_table is not None)
    if not document["Statement"]:
        print(
            f"luigi-fargate: the {args.role} role needs nothing from luigi-fargate with lock {lock_url} "
            "(only the dynamodb:// lock calls AWS); give it what your pipeline's own code uses",
            file=sys.stderr,
        )
    print(json.dumps(document, indent=2))
    return 0
