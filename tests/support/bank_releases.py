"""Three releases of the banking spec, as a team would publish them one after another."""

from __future__ import annotations

from tests.conftest import SPECS

BANKING = (SPECS / "banking.yaml").read_text(encoding="utf-8")
# A non-breaking change (a new optional query parameter) and a breaking one (an operation renamed).
ADDITIVE = BANKING.replace("version: 2.3.0", "version: 2.4.0").replace(
    "        - name: transferId\n",
    "        - name: expand\n          in: query\n          schema: {type: boolean}\n        - name: transferId\n",
)
BREAKING = ADDITIVE.replace("version: 2.4.0", "version: 3.0.0").replace(
    "operationId: getTransfer", "operationId: fetchTransfer"
)
