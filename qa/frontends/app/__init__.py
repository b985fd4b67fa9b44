"""The browser chat (Gradio) on :class:`qa.Assistant`: :mod:`~qa.frontends.app.render` makes the HTML,
:mod:`~qa.frontends.app.handlers` answers the events, :mod:`~qa.frontends.app.layout` lays out the page and wires
them, :mod:`~qa.frontends.app.server` starts it (``python app.py``). Needs the ``[app]`` extra (gradio)."""
