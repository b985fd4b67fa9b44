"""The browser chat (Gradio) on :class:`qa.Assistant`: :mod:`~qa.app.render` makes the HTML,
:mod:`~qa.app.handlers` answers the events, :mod:`~qa.app.layout` lays out the page and wires
them, :mod:`~qa.app.server` starts it (``python app.py``). Needs the ``[app]`` extra (gradio)."""
