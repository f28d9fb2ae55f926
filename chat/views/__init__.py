"""Views, one module per resource (as Campfire has a controller each):
rooms, messages (polls, history, sends), members, direct conversations,
object rooms. Each view parses input, calls a service or selector, renders
the partials under templates/chat/partials/ (a fragment for htmx, the page
otherwise) and answers a plain POST with a 303."""
