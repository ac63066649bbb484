"""The building blocks every dialog file's schema is made of.

Strict models (an unknown key is an error, nothing can be changed after
load), non-empty text, and the clinical `source` every spoken statement
must carry.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SOURCE_PATTERN = re.compile(r"\bclinical reference\b.*§\d", re.IGNORECASE)
CITATION = re.compile(r"§(\d+(?:\.\d+)?)")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Text = Annotated[str, Field(min_length=1)]


def _check_source(value: str) -> str:
    if not SOURCE_PATTERN.search(value):
        raise ValueError("must cite the clinical reference (clinical reference §N.M)")
    return value


Source = Annotated[Text, AfterValidator(_check_source),
                   Field(description="clinical reference §N.M")]
