"""The one error type for configuration that cannot be used, with every problem listed."""


class ConfigError(Exception):
    """Configuration is missing or invalid; `problems` names each bad key and what it should be."""

    def __init__(self, problems: list[str], *, heading: str | None = None):
        self.problems = problems
        self.heading = heading  # instead of "Beacon cannot start", for a problem met later
        super().__init__("\n".join(problems))

    def report(self) -> str:
        count = len(self.problems)
        heading = self.heading or ("Beacon cannot start: 1 configuration problem" if count == 1 else
                                   f"Beacon cannot start: {count} configuration problems")
        lines = [heading + ":"] + [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)
