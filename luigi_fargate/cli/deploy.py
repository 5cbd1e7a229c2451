"""``luigi-fargate deploy --image IMAGE --dags DIR [--rollback]``: release a new image, or go back."""

from __future__ import annotations

import argparse

from luigi_fargate.errors import UserError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "deploy",
        parents=[common],
        allow_abbrev=False,
        help="register a task definition for a new image and point every exported spec at it",
        description=(
            "Register one task definition revision for IMAGE, then rewrite every fargate spec in DIR to use it, "
            "each file atomically, recording the revision it replaces. If anything fails part-way, the files "
            "already rewritten are restored. --rollback undoes the latest deploy. Specs with the local runner "
            "are left untouched."
        ),
    )
    p.add_argument("--image", help="the new image (required unless --rollback)")
    p.add_argument("--dags", required=True, metavar="DIR", help="the folder the pipelines were exported into")
    p.add_argument("--release", metavar="NAME", help="release name (default: the image tag)")
    p.add_argument("--rollback", action="store_true", help="point the specs back at the revisions the latest deploy replaced")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from luigi_fargate.release import deploy

    if args.rollback:
        if args.image or args.release:
            raise UserError("--rollback takes no --image or --release: it goes back to the revisions recorded by the last deploy")
        deploy.rollback(args.dags)
        return 0
    if not args.image:
        raise UserError("--image is required: the image to deploy, e.g. --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/pipelines:2026-11-24")
    from luigi_fargate.release.settings import load_release_settings

    deploy.deploy(args.dags, args.image, load_release_settings(), release=args.release)
    return 0
