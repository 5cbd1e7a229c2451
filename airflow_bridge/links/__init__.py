"""Extra links of the operators (console pages of the ECS task and of its log stream)."""
