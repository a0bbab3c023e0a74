"""A small to-do list API: the example project `baton analyze` is shown on."""
from flask import Flask, jsonify, request

app = Flask(__name__)
todos: dict[int, dict] = {}


@app.get("/todos")
def list_todos():
    return jsonify(list(todos.values()))


@app.post("/todos")
def add_todo():
    body = request.get_json(force=True)
    todo = {"id": len(todos) + 1, "title": body["title"], "done": False}
    todos[todo["id"]] = todo
    # TODO: persist to a database instead of memory
    return jsonify(todo), 201


@app.post("/todos/<int:todo_id>/done")
def complete(todo_id: int):
    todos[todo_id]["done"] = True  # FIXME: 404 for unknown ids
    return jsonify(todos[todo_id])


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
