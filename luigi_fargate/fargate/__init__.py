"""Fargate settings and sizes, decided at export time and written into the spec."""
