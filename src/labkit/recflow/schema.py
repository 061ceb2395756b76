"""The official RecFlow layout (Liu et al., ICLR 2025, arXiv:2410.20868), as the paper and the released loaders
describe it: folder names, column order, array shapes, which fields are IDs, units, test-file spellings.

IDs are 0-based in the files; loaders add 1 so that 0 is padding - except ``category_level_one`` (the original
embeds it with padding_idx 2). ``request_timestamp`` is in milliseconds, ``upload_timestamp`` in seconds,
``duration`` and ``playing_time`` in milliseconds.
"""

from __future__ import annotations

FIRST_DAY = "2024-01-13"  # the release's 37 days run 2024-01-13 .. 2024-02-18 (the test day)

USER_COLS = ["user_id", "device_id", "age", "gender", "province"]
ITEM_COLS = ["video_id", "author_id", "category_level_one", "category_level_two", "upload_type", "upload_timestamp",
             "duration"]
STAGE_FLAGS = ["realshow", "rerank_pos", "rerank_neg", "rank_pos", "rank_neg", "coarse_neg", "prerank_neg"]
FEEDBACK = ["playing_time", "effective_view", "long_view", "like", "follow", "forward", "comment"]
COLUMNS = ["request_id", "request_timestamp", *USER_COLS, *ITEM_COLS, *STAGE_FLAGS, "rank_index", "rerank_index",
           *FEEDBACK]

# fields the loaders shift by +1 (0 = padding); category_level_one is not shifted
ID_FIELDS = ["user_id", "device_id", "age", "gender", "province", "video_id", "author_id", "category_level_two",
             "upload_type"]
BINARY = [*STAGE_FLAGS, "effective_view", "long_view", "like", "follow", "forward", "comment"]

SEQ_LEN = 50
SEQ_COLS = ["video_id", "author_id", "category_level_two", "category_level_one", "upload_type", "upload_timestamp",
            "duration", "request_timestamp", "playing_time", "request_id"]
SEQ_VALID_COL = 7  # a history row is real iff its request_timestamp > 0 (padding rows are all zero)
SEQ_ID_COLS = [0, 1, 2, 4]  # video, author, category_level_two, upload_type: shifted on valid rows

STAGE_COLS = ["video_id", "author_id", "duration", "category_level_two", "upload_type", "upload_timestamp",
              "category_level_one", "effective_view"]
STAGE_ID_COLS = [0, 1, 3, 4]

DIRS = {"all_stage": "all_stage", "realshow": "realshow", "seq": "seq_effective_50_dict",
        "requests": "request_id_dict", "ubm": "ubm_seq_request_id_dict", "others": "others"}
VIDEO_INFO_COLS = ["video_id", "author_id", "category_level_one", "category_level_two", "upload_type",
                   "upload_timestamp", "duration"]
# test tables of the last day: the README's names first, then the names the released code opens
TEST_FILES = {"retrieval": ("retrieval_test.feather", "recall_test.feather"),
              "coarse": ("coarse_rank_test.feather", "prerank_test.feather"),
              "rank": ("rank_test.feather", "rank_test.feather")}

# the columns the released evaluation reads from each test table (its loaders' column lists); labkit also needs
# user_id of the retrieval table (user subsampling, hidden-truth recall)
TEST_COLUMNS = {"retrieval": ["request_id", "user_id", "video_id", "effective_view"],
                "coarse": ["request_id", "user_id", "request_timestamp", "device_id", "age", "gender", "province",
                           "video_id", "author_id", "category_level_two", "upload_type", "upload_timestamp",
                           "category_level_one", "effective_view"]}
TEST_COLUMNS["rank"] = TEST_COLUMNS["coarse"]
VIDEO_ITEM = ["video_id", "author_id", "category_level_two"]  # what retrieval reads from the video info

MS_MIN, MS_MAX = 10**12, 10**13  # request timestamps (ms) fall in 2001..2286
S_MAX = 10**11  # upload timestamps are seconds
