"""Run a Serverless Framework service (`serverless.yml`) on the local cloud: `cloud.deploy(path)`.

The chapter describes services in `serverless.yml`; lessons deploy them as printed. Keys the local
cloud supports take effect; anything else is refused with its line number, never skipped silently.
Where the chapter's file leans on something the real Framework would reject, the deployment
succeeds and says so in `Deployment.notes` — the lesson then discusses it.
"""

from .deploy import Deployment, deploy

__all__ = ["Deployment", "deploy"]
