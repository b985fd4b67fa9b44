"""The command line, in child processes: ``qa ask|search|eval|info`` and ``python -m eval.compare``."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import QUESTION, ROOT, run_cli

LIMIT = 2000  # the default question limit (qa.settings.Settings.max_question_chars)

SQUAD = {
    "data": [
        {"paragraphs": [
            {"context": "2025年12月20日，长安汽车宣布，旗下新能源汽车年销量突破100万辆。这一成就源于不断的创新投入。",
             "qas": [{"id": "q1", "question": "长安汽车新能源汽车年销量突破了多少？", "answers": [{"text": "100万辆", "answer_start": 31}]}]},
            {"context": "1月6日，重庆信息与智慧医学研究院正式启用。这个研究院由市科技局举办，重庆医科大学与渝中区共同建设。",
             "qas": [{"id": "q2", "question": "重庆信息与智慧医学研究院由谁举办？", "answers": [{"text": "市科技局", "answer_start": 28}]}]},
        ]}
    ]
}


@pytest.fixture
def squad_file(tmp_path):
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    return path


def test_same_answer_and_offsets_on_an_avx2_only_view(assistant):
    """A child process capped at AVX2 picks fp32 and answers as this one does."""
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "PYTHONIOENCODING": "utf-8"}
    env.pop("QA_PRECISION", None)
    code = (
        "import json; from qa import Assistant; a = Assistant(); r = a.ask(%r)\n"
        "print(json.dumps([a.reader.precision, r.answer, r.start, r.end]))" % QUESTION
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    precision, answer, start, end = json.loads(out.stdout.strip().splitlines()[-1])
    here = assistant.ask(QUESTION)
    assert precision == "fp32"
    assert (answer, start, end) == (here.answer, here.start, here.end) == ("100万辆", 2688, 2693)


def test_qa_info_names_the_choice():
    out = run_cli("info")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "precision = " in text and "threads = " in text and "torch " in text and "reader weights: " in text
    capped = subprocess.run([sys.executable, "-m", "qa", "info"], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "PYTHONIOENCODING": "utf-8"})
    assert "capped at AVX2" in capped.stdout and "precision = fp32 (default: no native bf16 matrix units (ISA capped at AVX2))" in capped.stdout


@pytest.mark.parametrize(("name", "data", "message"), [
    ("gbk.txt", "重庆创新".encode("gbk"), "UTF-8"),
    ("report.pdf", "重庆创新".encode(), "named .pdf but its bytes are a TEXT file"),
    ("broken.pdf", b"%PDF-1.4\ngarbage", "not a readable PDF"),
    ("memo.docx", b"PK\x03\x04" + b"\x00" * 40, "not a readable .docx"),
])
def test_cli_rejects_a_bad_corpus_file_with_one_line_and_exit_2(tmp_path, name, data, message):
    bad = tmp_path / name
    bad.write_bytes(data)
    result = run_cli("search", "重庆", "--corpus", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and message in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_search_json():
    result = run_cli("search", QUESTION, "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and all(set(h) == {"text", "doc_id", "start", "end", "score"} for h in hits)
    assert any("100万辆" in h["text"] for h in hits)


def test_cli_ask_json_keys_and_errors():
    result = run_cli("ask", QUESTION, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["question", "answer", "confidence", "doc_id", "start", "end", "evidence", "passages", "kind", "understood_as", "keywords_only", "abstained_because", "guess", "phrase", "rules", "page", "grade"]
    assert data["answer"] == "100万辆" and data["grade"] == "sure" and data["abstained_because"] is None and data["guess"] is None and data["phrase"] is None and data["page"] is None
    for bad in ("", "x" * (LIMIT + 1)):
        result = run_cli("ask", bad)
        assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.strip()


def test_reread_flags_answer_through_the_whole_pipeline(article):
    question = "“人工智能+”行动方案推动人工智能与什么双向赋能？"
    out = run_cli("ask", "--reread", "--json", question)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["answer"] == "数字重庆" and article[answer["start"] : answer["end"]] == "数字重庆"
    assert "数字重庆双向赋能" in answer["evidence"]
    once = run_cli("ask", "--no-reread", "--json", question)  # read once: the flag reaches the reader, whose edges differ
    assert once.returncode == 0, once.stderr
    read_once = json.loads(once.stdout)
    assert read_once["answer"] != answer["answer"] and article[read_once["start"] : read_once["end"]] == read_once["answer"]


@pytest.mark.parametrize("mode", ["reader", "open"])
def test_eval_squad_file(tmp_path, squad_file, mode):
    preds, summary, report = tmp_path / "p.json", tmp_path / "s.json", tmp_path / "r.md"
    result = run_cli("eval", str(squad_file), "--mode", mode, "--predictions", str(preds), "--json", str(summary), "--report", str(report))
    assert result.returncode == 0, result.stderr
    predictions = json.loads(preds.read_text(encoding="utf-8"))
    assert predictions == {"q1": "100万辆", "q2": "市科技局"}
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["n"] == 2 and data["em"] == 100.0 and data["f1"] == 100.0
    assert ("retrieval" in data) == (mode == "open")
    assert "EM" in result.stdout and "F1" in result.stdout
    assert report.read_text(encoding="utf-8").startswith("# Evaluation report")


def test_eval_squad2_file_reports_no_answer_metrics(tmp_path, squad_file):
    data = json.loads(squad_file.read_text(encoding="utf-8"))
    data["data"][0]["paragraphs"][0]["qas"].append(
        {"id": "u1", "question": "长安汽车2025年营业收入是多少？", "answers": [], "is_impossible": True})
    squad2 = tmp_path / "squad2.json"
    squad2.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    preds, summary = tmp_path / "p.json", tmp_path / "s.json"
    result = run_cli("eval", str(squad2), "--mode", "reader", "--predictions", str(preds), "--json", str(summary))
    assert result.returncode == 0, result.stderr
    predictions = json.loads(preds.read_text(encoding="utf-8"))
    assert predictions == {"q1": "100万辆", "q2": "市科技局", "u1": ""}  # a count is not revenue: abstains
    s = json.loads(summary.read_text(encoding="utf-8"))
    na = s["no_answer"]
    assert na["has_ans_f1"] == 100.0 and na["no_ans_accuracy"] == 100.0 and s["f1"] == 100.0
    assert na["auc"] == 1.0 and na["best_f1"] == 100.0 and set(na["shown"]) == {"has_ans_em", "has_ans_f1", "no_ans_accuracy"}
    assert s["view"] == "strict" and s["grades"]["sure"]["n"] >= 2
    assert "NoAns accuracy" in result.stdout and "questions/s" in result.stdout


def test_eval_question_set_with_unanswerable(tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "question": "长安汽车新能源汽车年销量突破了多少？", "answers": ["100万辆"]},
        {"id": "u", "question": "长安汽车2025年新能源汽车出口了多少辆？", "answers": []},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    summary, preds = tmp_path / "s.json", tmp_path / "p.json"
    result = run_cli("eval", str(questions), "--json", str(summary), "--predictions", str(preds))
    assert result.returncode == 0, result.stderr
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["answerable"]["n"] == 1 and data["unanswerable"]["n"] == 1
    assert set(json.loads(preds.read_text(encoding="utf-8"))) == {"a", "u"}
    assert {"recall@1", "recall@3", "recall@5", "mrr"} <= set(data["retrieval"])
    assert {"p50", "p95"} == set(data["latency_ms"])


def test_compare_cli(tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "a", "question": "销量突破了多少？", "answers": ["100万辆"]}, {"id": "u", "question": "出口了多少辆？", "answers": []}]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps({"a": "100万", "u": "5辆"}, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"a": "100万辆", "u": ""}, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "short.json").write_text(json.dumps({"a": "100万辆"}, ensure_ascii=False), encoding="utf-8")

    def compare(b: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "eval.compare", str(questions), str(tmp_path / "a.json"), str(tmp_path / b)]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "utf-8"})

    result = compare("b.json")
    assert result.returncode == 0, result.stderr
    lines = {tuple(line.split()[:3]): line.split() for line in result.stdout.splitlines()[1:]}
    assert lines[("all", "2", "EM")][3:6] == ["0.00", "100.00", "+100.00"]
    assert lines[("unanswerable", "1", "F1")][-3:] == ["1", "1", "0"]  # changed, better, worse
    missing = compare("short.json")
    assert missing.returncode == 2 and "no prediction for 1 questions (first: u)" in missing.stderr


def test_chat_keeps_the_conversation_and_reads_piped_questions():
    lines = ["璧山的生物制造中试平台是什么时候开工的？", "它的投資是多少？", ":reset", "", "x" * (LIMIT + 1), ":quit", "不会被问到？"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run([sys.executable, "-m", "qa", "chat", "--json"], input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    first, follow = [json.loads(line) for line in out.stdout.splitlines()]  # :reset, an empty line and :quit answer nothing
    assert first["answer"] == "2025年11月"
    assert follow["answer"] == "6.25亿元" and follow["question"] == "它的投資是多少？"  # Traditional input, history kept
    assert "问题太长" in out.stderr and "Traceback" not in out.stderr
    asked = "长安汽车新能源汽车年销量突破了多少？\n:guess\n埃菲尔铁塔有多高？\n:guess\n重庆信息与智慧医学研究院哪天开始启用？\n"
    plain = subprocess.run([sys.executable, "-m", "qa", "chat"], input=asked, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert plain.returncode == 0 and plain.stdout.startswith("问：长安汽车新能源汽车年销量突破了多少？\n答案：100万辆")
    answered, abstained, unsure = re.split("问：埃菲尔铁塔|问：重庆信息与智慧医学研究院", plain.stdout)
    assert "没有要猜的" in answered and "文章中没有找到这个问题的答案：" in abstained and "最可能的答案，但不确定：" in abstained
    assert "答案（不确定）：可能是 1月6日" in unsure and "请对照原文核实" in unsure  # shown, marked


@pytest.mark.milvus
def test_an_archive_is_built_then_answers_and_a_bad_store_is_one_clear_error(tmp_path, article):
    pytest.importorskip("pymilvus")
    folder = tmp_path / "news"
    (folder / "2025").mkdir(parents=True)
    (folder / "2025" / "chongqing.txt").write_text(article, encoding="utf-8")
    (folder / "other.md").write_text("青石镇第888号水电站的站长是王886号。", encoding="utf-8")
    store = str(tmp_path / "news.db")
    built = run_cli("index", "--corpus", str(folder), "--store", store)
    assert built.returncode == 0, built.stderr
    assert "2 document(s) added" in built.stdout
    again = run_cli("index", "--corpus", str(folder), "--store", store)
    assert "0 document(s) added, 0 removed, 2 unchanged" in again.stdout
    asked = run_cli("ask", QUESTION, "--store", store, "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert (answer["answer"], answer["doc_id"]) == ("100万辆", "2025/chongqing.txt")
    assert article[answer["start"] : answer["end"]] == "100万辆"
    for bad, says in (("s3://bucket/news", "unknown scheme"), (str(tmp_path / "missing" / "x.db"), "folder does not exist")):
        failed = run_cli("ask", QUESTION, "--store", bad)
        assert failed.returncode == 2 and says in failed.stderr and "Traceback" not in failed.stderr
    both = run_cli("ask", QUESTION, "--store", store, "--corpus", str(folder))
    assert both.returncode == 2 and "not both" in both.stderr
