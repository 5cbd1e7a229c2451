"""Releases on ECS: one task definition per image, deployed into the exported specs.

``taskdef`` renders and registers the task definition, ``deploy`` points every
exported spec at a new revision (and back), ``iam`` holds the least-privilege
policies as data, ``settings`` the release keys of ``[luigi_fargate]``.
"""
