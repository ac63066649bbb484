"""The screen beside the voice: large captions and big touch answers in a local web page.

`view` is pure (what the page shows at a moment of the dialog); `server` is the shell
(the local web server, the page's live updates, and the touches it hands the voice).
"""
